// The zod schema of Change Tracking `extensionSettings` (SPEC §1.2–1.5) for Linux and Windows, with key aliases.
import { z } from "zod";
import type { Platform } from "../platform.ts";
import { segmentProblem } from "../collectors/files/match.ts";

/** One problem found in a DCR: where (JSON path) and what. */
export interface Problem {
  path: string;
  message: string;
}

/** Below this a frequency is rejected (SPEC §7.13); tests and demos rely on anything from here up. */
export const MIN_FREQUENCY = 10;
/** A frequency above 30 days is almost certainly a unit mistake. */
export const MAX_FREQUENCY = 30 * 24 * 3600;

const frequency = z.number().int().min(MIN_FREQUENCY).max(MAX_FREQUENCY);

const fileInfoSchema = z.object({
  name: z.string().default(""),
  enabled: z.boolean().default(true),
  description: z.string().default(""),
  /** `destinationPath` on Linux, `path` on Windows: both are accepted, kept here as `path`. */
  path: z.string().min(1),
  recurse: z.boolean().default(false),
  useSudo: z.boolean().default(false),
  maxContentsReturnable: z.number().int().min(0).default(5_000_000),
  maxOutputSize: z.number().int().min(0).default(500_000),
  checksum: z.enum(["sha256"]).default("sha256"),
  pathType: z.enum(["File", "Folder"]).default("File"),
  type: z.enum(["File", "Directory", "*"]).default("File"),
  links: z.enum(["Follow", "Ignore", "Manage"]).default("Follow"),
  groupTag: z.string().default("Custom"),
  uploadContent: z.boolean().default(false),
  /**
   * ctagent: capture (and show) the content of files that not every user may read; a file with a
   * secret-bearing name also needs to be named literally in `path` (collectors/files/capture.ts).
   */
  captureRestricted: z.boolean().default(false),
});

const registryInfoSchema = z.object({
  name: z.string().default(""),
  groupTag: z.string().default("Recommended"),
  enabled: z.boolean().default(false),
  recurse: z.boolean().default(true),
  description: z.string().default(""),
  keyName: z.string().min(1),
  valueName: z.string().default(""),
});

export type FileInfo = z.infer<typeof fileInfoSchema>;
export type RegistryInfo = z.infer<typeof registryInfoSchema>;

interface OsDefaults {
  enableRegistry: boolean;
  fileCollectionFrequency: number;
  registryCollectionFrequency: number;
  softwareCollectionFrequency: number;
  serviceCollectionFrequency: number;
  inventoryCollectionFrequency: number;
}

export const OS_DEFAULTS: Record<Platform, OsDefaults> = {
  linux: {
    enableRegistry: false,
    fileCollectionFrequency: 900,
    registryCollectionFrequency: 3000,
    softwareCollectionFrequency: 300,
    serviceCollectionFrequency: 300,
    inventoryCollectionFrequency: 36000,
  },
  windows: {
    enableRegistry: true,
    fileCollectionFrequency: 2700,
    registryCollectionFrequency: 3000,
    softwareCollectionFrequency: 1800,
    serviceCollectionFrequency: 1800,
    inventoryCollectionFrequency: 36000,
  },
};

/** The schema of `extensionSettings` for one OS (defaults differ per OS). */
export function settingsSchema(os: Platform) {
  const d = OS_DEFAULTS[os];
  return z.object({
    enableFiles: z.boolean().default(true),
    enableSoftware: z.boolean().default(true),
    enableRegistry: z.boolean().default(d.enableRegistry),
    enableServices: z.boolean().default(true),
    enableInventory: z.boolean().default(true),
    enableUpload: z.boolean().default(false),
    fileSettings: z.object({
      fileCollectionFrequency: frequency.default(d.fileCollectionFrequency),
      fileInfo: z.array(fileInfoSchema).default([]),
      uploadSetting: z.object({
        storageAccountResourceId: z.string().default(""),
        blobEndpoint: z.string().default(""),
        managedIdentity: z.string().default(""),
      }).optional(),
      /** ctagent: safety limit on files per run; what it cuts is reported (SPEC §7.7). */
      maxFiles: z.number().int().min(1).default(1_000_000),
      /** ctagent: deepest directory level a recursive entry descends to; what it cuts is reported. */
      maxDepth: z.number().int().min(1).max(4096).default(256),
      /** ctagent: total bytes of file content captured per run (for diffs); what it cuts is reported. */
      maxContentBytes: z.number().int().min(0).default(64 * 1024 * 1024),
      /**
       * ctagent: files larger than this are not hashed; their items say so (kept with size and times). At about
       * 1 GB/s a core, 16 GiB is some 15 s per run, where a 15 TB sparse file (`truncate -s 15T` by anyone who
       * may write in a tracked directory) would take hours.
       */
      maxHashBytes: z.number().int().min(0).default(16 * 2 ** 30),
      /**
       * ctagent: files (or directories, ending in a separator) whose content is captured even when not every
       * user may read them, as captureRestricted does per entry; `--capture-restricted PATH` adds to it.
       */
      captureRestrictedPaths: z.array(z.string().min(1)).default([]),
    }).prefault({}),
    registrySettings: z.object({
      registryCollectionFrequency: frequency.default(d.registryCollectionFrequency),
      registryInfo: z.array(registryInfoSchema).default([]),
    }).prefault({}),
    softwareSettings: z.object({
      softwareCollectionFrequency: frequency.default(d.softwareCollectionFrequency),
    }).prefault({}),
    servicesSettings: z.object({
      serviceCollectionFrequency: frequency.default(d.serviceCollectionFrequency),
    }).prefault({}),
    inventorySettings: z.object({
      inventoryCollectionFrequency: frequency.default(d.inventoryCollectionFrequency),
    }).prefault({}),
  });
}

export type Settings = z.infer<ReturnType<typeof settingsSchema>>;

/**
 * Canonical key names per level, for case-insensitive matching and aliases (SPEC §7.1).
 * A nested shape describes an object; `[shape]` an array of such objects; `true` a leaf.
 */
type Shape = { [key: string]: Shape | [Shape] | true };
const fileInfoShape: Shape = Object.fromEntries(
  [...Object.keys(fileInfoSchema.shape), "destinationPath"].map((k) => [k, true]),
);
const registryInfoShape: Shape = Object.fromEntries(
  Object.keys(registryInfoSchema.shape).map((k) => [k, true]),
);
const SETTINGS_SHAPE: Shape = {
  enableFiles: true,
  enableSoftware: true,
  enableRegistry: true,
  enableServices: true,
  enableInventory: true,
  enableUpload: true,
  fileSettings: {
    fileCollectionFrequency: true,
    fileInfo: [fileInfoShape],
    uploadSetting: { storageAccountResourceId: true, blobEndpoint: true, managedIdentity: true },
    maxFiles: true,
    maxDepth: true,
    maxContentBytes: true,
    maxHashBytes: true,
    captureRestrictedPaths: true,
  },
  registrySettings: { registryCollectionFrequency: true, registryInfo: [registryInfoShape] },
  softwareSettings: { softwareCollectionFrequency: true },
  servicesSettings: { serviceCollectionFrequency: true },
  inventorySettings: { inventoryCollectionFrequency: true },
};
/** Other spellings seen in the wild, lower-cased → canonical. */
const KEY_ALIASES: Record<string, string> = {
  servicesettings: "servicesSettings",
  destinationpath: "path",
};
/** Enum values are matched case-insensitively; these are the other spellings. */
const VALUE_ALIASES: Record<string, Record<string, string>> = {
  checksum: { sha256: "sha256", "sha-256": "sha256" },
  pathType: { file: "File", folder: "Folder", directory: "Folder" },
  type: { file: "File", directory: "Directory", folder: "Directory", "*": "*" },
  links: { follow: "Follow", ignore: "Ignore", manage: "Manage" },
};

export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  const safe = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  if (!base) return safe;
  return safe.startsWith('"') ? `${base}[${safe}]` : `${base}.${safe}`;
}

function canonicalize(value: unknown, shape: Shape, path: string, warnings: string[]): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value; // zod reports it
  const byLower = new Map(Object.keys(shape).map((k) => [k.toLowerCase(), k]));
  const out: Record<string, unknown> = {};
  for (const [rawKey, v] of Object.entries(value)) {
    const lower = rawKey.toLowerCase();
    const key = KEY_ALIASES[lower] ?? byLower.get(lower);
    const here = joinPath(path, rawKey);
    if (!key) {
      warnings.push(`${here}: unknown key, ignored`);
      continue;
    }
    if (key in out) {
      warnings.push(
        `${here}: duplicate of ${joinPath(path, key)} (keys are matched case-insensitively), ignored`,
      );
      continue;
    }
    const sub = shape[key];
    if (sub === true) {
      const aliases = VALUE_ALIASES[key];
      out[key] = aliases && typeof v === "string" ? (aliases[v.toLowerCase()] ?? v) : v;
    } else if (Array.isArray(sub)) {
      out[key] = Array.isArray(v) ? v.map((e, i) => canonicalize(e, sub[0], joinPath(here, i), warnings)) : v;
    } else {
      out[key] = canonicalize(v, sub, here, warnings);
    }
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Frequencies outside Microsoft's documented ranges are honoured, with a warning (SPEC §7.13). */
function rangeWarnings(s: Settings, os: Platform, base: string): string[] {
  const w: string[] = [];
  const check = (path: string, v: number, min: number, max: number, doc: string) => {
    const at = path.split(".").reduce(joinPath, base);
    if (v < min || v > max) w.push(`${at}: ${v} s is outside ${doc}; honoured anyway`);
  };
  if (os === "windows") {
    check(
      "servicesSettings.serviceCollectionFrequency",
      s.servicesSettings.serviceCollectionFrequency,
      600,
      1800,
      "Microsoft's documented 600–1800 s",
    );
  }
  return w;
}

export interface Validated {
  settings?: Settings;
  problems: Problem[];
  warnings: string[];
}

/** Validates one `extensionSettings` object for `os`; `base` is its JSON path in the whole document. */
export function validateSettings(input: unknown, os: Platform, base = ""): Validated {
  const warnings: string[] = [];
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return {
      problems: [{
        path: base || "(root)",
        message: `expected an object of settings, got ${describe(input)}`,
      }],
      warnings,
    };
  }
  const canon = canonicalize(input, SETTINGS_SHAPE, base, warnings);
  const result = settingsSchema(os).safeParse(canon);
  if (!result.success) {
    const problems = [
      ...result.error.issues.map((issue) => {
        const path = issue.path.reduce<string>((p, k) => joinPath(p, k as string | number), base) || "(root)";
        const got = valueAt(canon, issue.path);
        let message = issue.message;
        if (issue.code === "invalid_type") {
          message = got === undefined
            ? `required ${issue.expected}`
            : `expected ${issue.expected}, got ${describe(got)}`;
        } else if (issue.code === "invalid_value") {
          message = `expected one of ${issue.values.join(" | ")}, got ${describe(got)}`;
        } else if (issue.code === "too_small" || issue.code === "too_big") {
          message = `${issue.message}, got ${describe(got)}`;
        }
        return { path, message };
      }),
      ...patternProblems(canon, input, os, base),
    ];
    return { problems, warnings };
  }
  const patterns = patternProblems(canon, input, os, base);
  if (patterns.length) return { problems: patterns, warnings };
  return {
    settings: result.data,
    problems: [],
    warnings: [...warnings, ...rangeWarnings(result.data, os, base)],
  };
}

/** The key of `o` that is `name` ignoring case (or one of its aliases), as the DCR spells it. */
function keyAsWritten(o: unknown, ...names: string[]): string | undefined {
  if (typeof o !== "object" || o === null) return undefined;
  return Object.keys(o).find((k) => names.includes(k.toLowerCase()));
}

/**
 * fileInfo paths whose last segment cannot be matched in linear time (SPEC §7.25), each named by its JSON path
 * (canonical, as zod's problems are) ending in the key as the DCR spells it (`destinationPath` or `path`).
 */
function patternProblems(canon: unknown, input: object, os: Platform, base: string): Problem[] {
  const problems: Problem[] = [];
  const entries = valueAt(canon, ["fileSettings", "fileInfo"]);
  if (!Array.isArray(entries)) return problems;
  const fileSettings = valueAt(input, [keyAsWritten(input, "filesettings") ?? "fileSettings"]);
  const raw = valueAt(fileSettings, [keyAsWritten(fileSettings, "fileinfo") ?? "fileInfo"]);
  entries.forEach((entry, i) => {
    const path = valueAt(entry, ["path"]);
    const message = typeof path === "string" ? segmentProblem(path, os) : undefined;
    if (!message) return;
    const leaf = keyAsWritten(valueAt(raw, [i]), "destinationpath", "path") ?? "path";
    problems.push({ path: ["fileSettings", "fileInfo", i, leaf].reduce<string>(joinPath, base), message });
  });
  return problems;
}
