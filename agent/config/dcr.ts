// The zod schema of Change Tracking `extensionSettings` (SPEC §1.2–1.5) for Linux and Windows, with key aliases.
import * as z from "../zod.ts";
import type { Platform } from "../platform.ts";
import { segmentProblem } from "../collectors/files/match.ts";
import { splitKeyPath } from "../host/registry/reader.ts";
import { joinPath } from "./json.ts";

export { joinPath };

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

const schemas = new Map<Platform, ReturnType<typeof settingsSchema>>();
/** The schema of `os`, made once (building a zod schema costs more than checking a DCR against it). */
function schemaOf(os: Platform) {
  let s = schemas.get(os);
  if (!s) schemas.set(os, s = settingsSchema(os));
  return s;
}

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
// Lookups by a DCR's own text go through Maps: a key or value such as "constructor" must find nothing.
/** Other spellings seen in the wild, lower-cased → canonical. */
const KEY_ALIASES = new Map([
  ["servicesettings", "servicesSettings"],
  ["destinationpath", "path"],
]);
/** Enum values are matched case-insensitively; these are the other spellings. */
const VALUE_ALIASES = new Map(
  Object.entries({
    checksum: { sha256: "sha256", "sha-256": "sha256" },
    pathType: { file: "File", folder: "Folder", directory: "Folder" },
    type: { file: "File", directory: "Directory", folder: "Directory", "*": "*" },
    links: { follow: "Follow", ignore: "Ignore", manage: "Manage" },
  }).map(([key, values]) => [key, new Map(Object.entries(values))]),
);

function canonicalize(value: unknown, shape: Shape, path: string, warnings: string[]): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value; // zod reports it
  const byLower = new Map(Object.keys(shape).map((k) => [k.toLowerCase(), k]));
  const out: Record<string, unknown> = Object.create(null);
  for (const [rawKey, v] of Object.entries(value)) {
    const lower = rawKey.toLowerCase();
    const alias = KEY_ALIASES.get(lower);
    // An alias counts only where its canonical key belongs (destinationPath in a fileInfo entry, not elsewhere).
    const key = alias && Object.hasOwn(shape, alias) ? alias : byLower.get(lower);
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
      const aliases = VALUE_ALIASES.get(key);
      out[key] = aliases && typeof v === "string" ? (aliases.get(v.toLowerCase()) ?? v) : v;
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
  // Infinity and NaN (a number too big for a double) would print as null.
  const s = typeof v === "number" ? String(v) : JSON.stringify(v) ?? typeof v;
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
  const result = schemaOf(os).safeParse(canon);
  const paths = pathProblems(canon, input, os, base);
  if (!result.success) {
    const problems = [
      ...result.error.issues.map((issue) => {
        const path = writtenPath(input, issue.path as (string | number)[], base) || "(root)";
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
      ...paths,
    ];
    return { problems, warnings };
  }
  if (paths.length) return { problems: paths, warnings };
  return {
    settings: result.data,
    problems: [],
    warnings: [...warnings, ...rangeWarnings(result.data, os, base)],
  };
}

/** The key of `o` that is the canonical `key` ignoring case (or one of its aliases), as the DCR spells it. */
function keyAsWritten(o: unknown, key: string): string | undefined {
  if (typeof o !== "object" || o === null || Array.isArray(o)) return undefined;
  const lower = key.toLowerCase();
  return Object.keys(o).find((k) => {
    const l = k.toLowerCase();
    return l === lower || KEY_ALIASES.get(l) === key;
  });
}

/** The JSON path of canonical `keys` as the DCR spells them (`destinationPath`, `FileSettings`), under `base`. */
function writtenPath(input: unknown, keys: readonly (string | number)[], base: string): string {
  let v = input;
  let path = base;
  for (const k of keys) {
    const written = typeof k === "number" ? k : keyAsWritten(v, k) ?? k;
    path = joinPath(path, written);
    v = typeof v === "object" && v !== null ? (v as Record<string | number, unknown>)[written] : undefined;
  }
  return path;
}

const WINDOWS_PATH = /^([A-Za-z]:[\\/]|[\\/]{2}[^\\/])/;

/** Why a file path of a DCR for `os` can never name a file, or undefined (empty: zod's `min(1)` says so). */
export function filePathProblem(path: string, os: Platform): string | undefined {
  const p = path.trim();
  if (!p) return undefined;
  if (p.includes("\0")) return `contains a NUL byte, which no file name can: ${JSON.stringify(path)}`;
  if (os === "linux") {
    if (WINDOWS_PATH.test(p) && !p.startsWith("//")) {
      return `is a Windows path, and this is a Linux configuration: ${JSON.stringify(path)}`;
    }
    if (!p.startsWith("/")) return `must be an absolute path (starting with /), got ${JSON.stringify(path)}`;
    return undefined;
  }
  // Windows: a drive (C:\), a share (\\server\share) or a %VAR% that expands to one when collecting.
  if (WINDOWS_PATH.test(p) || /^%[^%]+%/.test(p)) return undefined;
  if (/^[\\/]/.test(p)) {
    return `is a Linux path (or one relative to the current drive), and this is a Windows configuration: ${
      JSON.stringify(path)
    } (expected C:\\…, \\\\server\\share\\… or %VAR%\\…)`;
  }
  return `must be an absolute path (C:\\…, \\\\server\\share\\… or %VAR%\\…), got ${JSON.stringify(path)}`;
}

/** Why a registry keyName can never name a key (no hive, a NUL byte), or undefined. */
function keyNameProblem(keyName: string): string | undefined {
  if (!keyName.trim()) return undefined;
  if (keyName.includes("\0")) return `contains a NUL byte: ${JSON.stringify(keyName)}`;
  try {
    splitKeyPath(keyName);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Paths that can never name a file or key: relative ones, NUL bytes, the other OS's form, registry keys outside
 * a hive, and fileInfo last segments that cannot be matched in linear time (SPEC §7.25); each named by its JSON
 * path as the DCR spells it (`destinationPath` or `path`).
 */
function pathProblems(canon: unknown, input: object, os: Platform, base: string): Problem[] {
  const problems: Problem[] = [];
  const at = (keys: (string | number)[], message: string | undefined) => {
    if (message) problems.push({ path: writtenPath(input, keys, base), message });
  };
  const list = (keys: string[]) => {
    const v = valueAt(canon, keys);
    return Array.isArray(v) ? v : [];
  };
  list(["fileSettings", "fileInfo"]).forEach((entry, i) => {
    const path = valueAt(entry, ["path"]);
    if (typeof path !== "string") return;
    at(["fileSettings", "fileInfo", i, "path"], filePathProblem(path, os) ?? segmentProblem(path, os));
  });
  list(["fileSettings", "captureRestrictedPaths"]).forEach((path, i) => {
    if (typeof path === "string") {
      at(["fileSettings", "captureRestrictedPaths", i], filePathProblem(path, os));
    }
  });
  list(["registrySettings", "registryInfo"]).forEach((entry, i) => {
    const keyName = valueAt(entry, ["keyName"]);
    if (typeof keyName === "string") {
      at(["registrySettings", "registryInfo", i, "keyName"], keyNameProblem(keyName));
    }
  });
  return problems;
}
