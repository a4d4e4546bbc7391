// Reads a DCR in any of its input forms (SPEC §7.1) into validated CT configurations, one per OS entry.
import type { Platform } from "../platform.ts";
import { AMA_STREAMS, type AmaStream } from "../streams.ts";
import { type Problem, type Settings, validateSettings } from "./dcr.ts";
import { dataTree, joinPath, parseDcrJson } from "./json.ts";

export const EXTENSION_NAME: Record<Platform, string> = {
  linux: "ChangeTracking-Linux",
  windows: "ChangeTracking-Windows",
};

export type DcrForm = "resource" | "dataSources" | "configchunk" | "taggedData" | "extension" | "settings";

/** One CT configuration found in a DCR. */
export interface DcrEntry {
  os: Platform;
  /** The configuration id (`dcr-<id>:<dataSource>` from AMA, the data source name from a DCR resource). */
  id: string;
  /** JSON path of its extensionSettings in the document. */
  path: string;
  settings?: Settings;
  problems: Problem[];
  warnings: string[];
  /** Logical stream → AMA output stream id, when AMA named them. */
  outputStreams: Partial<Record<AmaStream, string>>;
  /** Output stream id → named pipe (Windows), from `outputStreamDefinitions`. */
  namedPipes: Record<string, string>;
}

export interface DcrDocument {
  form?: DcrForm;
  entries: DcrEntry[];
  /** Problems with the document as a whole (not JSON, unknown shape, AMA said Success:false). */
  problems: Problem[];
  warnings: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Case-insensitive property lookup: returns [actualKey, value]. */
function prop(o: Obj, name: string): [string, unknown] | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(o)) if (k.toLowerCase() === lower) return [k, v];
  return undefined;
}

function osOf(extensionName: unknown): Platform | undefined {
  if (typeof extensionName !== "string") return undefined;
  const n = extensionName.toLowerCase();
  if (n === "changetracking-linux") return "linux";
  if (n === "changetracking-windows") return "windows";
  return undefined;
}

function streamsOf(v: unknown): Partial<Record<AmaStream, string>> {
  const out: Partial<Record<AmaStream, string>> = {};
  if (!isObj(v)) return out;
  for (const s of AMA_STREAMS) {
    const p = prop(v, s);
    if (p && typeof p[1] === "string") out[s] = p[1];
  }
  return out;
}

function pipesOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null); // keyed by the DCR's own stream ids
  if (!isObj(v)) return out;
  for (const [id, def] of Object.entries(v)) {
    const pipe = isObj(def) ? prop(def, "namedPipe")?.[1] : undefined;
    if (typeof pipe === "string") out[id] = pipe;
  }
  return out;
}

interface RawEntry {
  os: Platform;
  id: string;
  path: string;
  settings: unknown;
  outputStreams: Partial<Record<AmaStream, string>>;
  namedPipes?: Record<string, string>;
}

const SETTINGS_KEYS =
  /^(enable(files|software|registry|services|inventory|upload)|(file|registry|software|services?|inventory)settings)$/i;

/**
 * Parses a DCR document. `text` may be the JSON text or an already parsed value. `bareOs` is the OS a bare
 * `extensionSettings` object is validated for (it says nothing about its OS itself). Never throws: whatever
 * the input, the result is entries or problems naming their JSON path.
 */
export function parseDcrDocument(text: string | unknown, bareOs: Platform): DcrDocument {
  const doc: DcrDocument = { entries: [], problems: [], warnings: [] };
  const tree = typeof text === "string" ? parseDcrJson(text) : dataTree(text);
  if ("problem" in tree) {
    doc.problems.push(tree.problem);
    return doc;
  }
  const value = tree.value;
  if (!isObj(value)) {
    doc.problems.push({
      path: "(root)",
      message: `expected a JSON object, got ${Array.isArray(value) ? "an array" : typeof value}`,
    });
    return doc;
  }
  const raw = findEntries(value, bareOs, doc);
  for (const r of raw) {
    const v = validateSettings(r.settings, r.os, r.path);
    doc.entries.push({
      os: r.os,
      id: r.id,
      path: r.path,
      settings: v.settings,
      problems: v.problems,
      warnings: v.warnings,
      outputStreams: r.outputStreams,
      namedPipes: r.namedPipes ?? {},
    });
  }
  if (!doc.form && doc.problems.length === 0) {
    doc.problems.push({
      path: "(root)",
      message:
        "not a recognised DCR form: expected a DCR resource, dataSources, one of its extensions, an AMA " +
        "configchunk, an AgentTaggedData reply or a bare extensionSettings object",
    });
  } else if (doc.form && raw.length === 0 && doc.problems.length === 0) {
    doc.problems.push({
      path: "(root)",
      message: "no ChangeTracking-Linux or ChangeTracking-Windows configuration in it",
    });
  }
  return doc;
}

function findEntries(root: Obj, bareOs: Platform, doc: DcrDocument): RawEntry[] {
  // AgentTaggedData reply: an envelope around a JSON string.
  const tagged = prop(root, "TaggedData");
  if (tagged) {
    doc.form = "taggedData";
    const success = prop(root, "Success")?.[1];
    if (success === false) {
      const why = prop(root, "Description")?.[1];
      doc.problems.push({
        path: "Success",
        message: `AMA replied Success:false${
          why === undefined || why === "" ? "" : `: ${typeof why === "string" ? why : JSON.stringify(why)}`
        }`,
      });
      return [];
    }
    let inner: unknown = tagged[1];
    if (typeof inner === "string") {
      const parsed = parseDcrJson(inner, tagged[0]);
      if ("problem" in parsed) {
        const { path, message } = parsed.problem;
        doc.problems.push({ path, message: path === tagged[0] ? `TaggedData is ${message}` : message });
        return [];
      }
      inner = parsed.value;
    }
    if (!isObj(inner)) {
      doc.problems.push({ path: tagged[0], message: "TaggedData is not a JSON object" });
      return [];
    }
    return fromExtensionConfigurations(inner, tagged[0], doc);
  }
  if (prop(root, "extensionConfigurations")) {
    doc.form = "configchunk";
    return fromExtensionConfigurations(root, "", doc);
  }
  const props = prop(root, "properties");
  const ds = isObj(props?.[1]) ? prop(props[1] as Obj, "dataSources") : undefined;
  if (props && ds) {
    doc.form = "resource";
    return fromDataSources(ds[1], joinPath(joinPath("", props[0]), ds[0]), doc);
  }
  const bareDs = prop(root, "dataSources");
  if (bareDs) {
    doc.form = "dataSources";
    return fromDataSources(bareDs[1], bareDs[0], doc);
  }
  if (prop(root, "extensions")) {
    doc.form = "dataSources";
    return fromDataSources(root, "", doc);
  }
  // One entry of dataSources.extensions on its own: {"name", "extensionName", "extensionSettings"}.
  if (prop(root, "extensionName") && prop(root, "extensionSettings")) {
    doc.form = "extension";
    const entry = fromExtension(root, "", doc);
    return entry ? [entry] : [];
  }
  if (Object.keys(root).some((k) => SETTINGS_KEYS.test(k))) {
    doc.form = "settings";
    return [{ os: bareOs, id: "extensionSettings", path: "", settings: root, outputStreams: {} }];
  }
  return [];
}

function fromExtensionConfigurations(o: Obj, base: string, doc: DcrDocument): RawEntry[] {
  const found = prop(o, "extensionConfigurations");
  if (!found) {
    doc.problems.push({ path: base || "(root)", message: "has no extensionConfigurations" });
    return [];
  }
  const [key, confs] = found;
  const here = joinPath(base, key);
  const pipes = pipesOf(prop(o, "outputStreamDefinitions")?.[1]);
  const out: RawEntry[] = [];
  const take = (conf: unknown, path: string, fallbackOs: Platform | undefined) => {
    if (!isObj(conf)) {
      doc.problems.push({ path, message: "expected an object" });
      return;
    }
    const os = fallbackOs ?? osOf(prop(o, "extensionName")?.[1]);
    if (!os) {
      doc.warnings.push(`${path}: not a Change Tracking configuration, ignored`);
      return;
    }
    const settings = prop(conf, "extensionSettings");
    const id = prop(conf, "id")?.[1];
    out.push({
      os,
      id: typeof id === "string" ? id : path,
      path: joinPath(path, settings?.[0] ?? "extensionSettings"),
      settings: settings?.[1],
      outputStreams: streamsOf(prop(conf, "outputStreams")?.[1]),
      namedPipes: pipes,
    });
  };
  if (Array.isArray(confs)) {
    // TaggedData: an array for the one extension the request named.
    confs.forEach((c, i) => take(c, joinPath(here, i), undefined));
  } else if (isObj(confs)) {
    // configchunk: keyed by extension name.
    for (const [ext, list] of Object.entries(confs)) {
      const os = osOf(ext);
      const path = joinPath(here, ext);
      if (!os) {
        doc.warnings.push(`${path}: not a Change Tracking extension, ignored`);
        continue;
      }
      if (!Array.isArray(list)) {
        doc.problems.push({ path, message: "expected an array of configurations" });
        continue;
      }
      list.forEach((c, i) => take(c, joinPath(path, i), os));
    }
  } else {
    doc.problems.push({ path: here, message: "expected an array or an object" });
  }
  return out;
}

function fromDataSources(ds: unknown, base: string, doc: DcrDocument): RawEntry[] {
  const ext = isObj(ds) ? prop(ds, "extensions") : undefined;
  if (!ext) {
    doc.problems.push({ path: base || "(root)", message: "has no extensions array" });
    return [];
  }
  const here = joinPath(base, ext[0]);
  if (!Array.isArray(ext[1])) {
    doc.problems.push({ path: here, message: "expected an array" });
    return [];
  }
  const out: RawEntry[] = [];
  ext[1].forEach((e, i) => {
    const path = joinPath(here, i);
    if (!isObj(e)) {
      doc.problems.push({ path, message: "expected an object" });
      return;
    }
    const entry = fromExtension(e, path, doc);
    if (entry) out.push(entry);
  });
  return out;
}

/** One extension data source (`{name, extensionName, extensionSettings}`) at `path`; undefined when not CT's. */
function fromExtension(e: Obj, path: string, doc: DcrDocument): RawEntry | undefined {
  const extName = prop(e, "extensionName")?.[1];
  const os = osOf(extName);
  if (!os) {
    // SPEC §1.1: other data sources in a CT DCR are not supported; say so, don't fail.
    doc.warnings.push(
      `${path || "(root)"}: extension ${JSON.stringify(extName)} is not Change Tracking, ignored`,
    );
    return undefined;
  }
  const name = prop(e, "name")?.[1];
  const settings = prop(e, "extensionSettings");
  return {
    os,
    id: typeof name === "string" && name ? name : `CTDataSource-${os === "linux" ? "Linux" : "Windows"}`,
    path: joinPath(path, settings?.[0] ?? "extensionSettings"),
    settings: settings?.[1],
    outputStreams: {},
  };
}

/** The configuration that applies to `os`: valid entries only, the one whose id sorts first (SPEC §7.2). */
export function chooseEntry(
  doc: DcrDocument,
  os: Platform,
): { entry?: DcrEntry; problems: Problem[]; warnings: string[] } {
  const mine = doc.entries.filter((e) => e.os === os);
  const problems = [...doc.problems, ...mine.flatMap((e) => e.problems)];
  const warnings = [...doc.warnings, ...mine.flatMap((e) => e.warnings)];
  if (doc.problems.length) return { problems, warnings };
  if (mine.length === 0) {
    const others = doc.entries.map((e) => EXTENSION_NAME[e.os]);
    return {
      problems: [{
        path: "(root)",
        message: `no ${EXTENSION_NAME[os]} configuration${
          others.length ? ` (found ${[...new Set(others)].join(", ")})` : ""
        }`,
      }],
      warnings,
    };
  }
  const sorted = [...mine].sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const entry = sorted[0];
  if (sorted.length > 1) {
    warnings.push(
      `${sorted.length} ${EXTENSION_NAME[os]} configurations: using ${entry.id} (first by id), ignoring ${
        sorted.slice(1).map((e) => e.id).join(", ")
      }`,
    );
  }
  if (entry.problems.length) return { problems: entry.problems, warnings };
  return { entry, problems: [], warnings };
}
