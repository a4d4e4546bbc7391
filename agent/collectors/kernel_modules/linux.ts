// Linux's kernel modules: /proc/modules, each module's file under /lib/modules/<release>, and the kernel's taint.
import type { Host } from "../../host/mod.ts";
import { isMissing } from "../../host/mod.ts";
import { breather } from "../../breathe.ts";
import type { Collected } from "../types.ts";
import type { ModuleItem } from "./item.ts";
import { type LoadedModule, parseProcModules, parseTainted } from "./proc_modules.ts";
import { decompressModule, parseModulesDep, readModinfo, readSignature } from "./module_file.ts";

/** Every field a module item has beyond its kind and name, empty. */
export const EMPTY = {
  Size: null,
  RefCount: null,
  UsedBy: null,
  State: null,
  Taint: null,
  TaintMask: null,
  Path: null,
  Version: null,
  SrcVersion: null,
  License: null,
  Description: null,
  Signed: null,
  Signer: null,
  SigKey: null,
  SigHashAlgo: null,
  FileNote: null,
} as const;

/** A file's text, or null when it is not there (the machine read has no running kernel, or no such feature). */
async function readIfThere(host: Host, path: string): Promise<string | null> {
  try {
    return await host.readText(path);
  } catch (e) {
    if (isMissing(e)) return null;
    throw new Error(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** What a module's file says, as item fields; a file there but not readable is the item's error. */
export function moduleFileFields(path: string, bytes: Uint8Array): Partial<ModuleItem> {
  let module: Uint8Array | string;
  try {
    module = decompressModule(path, bytes);
  } catch (e) {
    return { FileNote: `cannot decompress: ${(e as Error).message}` };
  }
  if (typeof module === "string") return { FileNote: module };
  const sig = readSignature(module);
  const fields: Partial<ModuleItem> = {
    Signed: sig.signed,
    Signer: sig.signer,
    SigKey: sig.key,
    SigHashAlgo: sig.hashAlgo,
    FileNote: sig.error ?? null,
  };
  try {
    const info = readModinfo(module);
    const first = (key: string) => info.get(key)?.[0] ?? null;
    return {
      Version: first("version"),
      SrcVersion: first("srcversion"),
      License: first("license"),
      Description: first("description"),
      ...fields,
    };
  } catch (e) {
    return { ...fields, FileNote: (e as Error).message };
  }
}

/** Reads the loaded modules and the taint of the machine under `host` (the live one: its kernel's own lists). */
export async function readLinuxModules(host: Host, signal: AbortSignal): Promise<Collected<ModuleItem>> {
  const items: ModuleItem[] = [];
  const unseen: string[] = [];
  const release = (await readIfThere(host, "/proc/sys/kernel/osrelease"))?.trim() || null;
  const tainted = await readIfThere(host, "/proc/sys/kernel/tainted");
  if (tainted === null) unseen.push("taint:");
  else {
    const t = parseTainted(tainted);
    items.push({
      Kind: "taint",
      Module: "kernel",
      ...EMPTY,
      Taint: t.letters || null,
      TaintMask: t.mask,
      Version: release,
      Description: t.meanings.length ? t.meanings.join("; ") : "not tainted",
    });
  }
  const text = await readIfThere(host, "/proc/modules");
  // No /proc/modules: a kernel without loadable modules (this machine's), or a disk image with no running
  // kernel. Nothing is known to be gone.
  if (text === null) return { items, unseen: [...unseen, "module:"] };
  const loaded = parseProcModules(text);
  const dir = release ? `/lib/modules/${release}` : null;
  let files: Map<string, string> | null = null;
  let noFiles = release ? null : "the kernel's release is not known (no /proc/sys/kernel/osrelease)";
  if (dir) {
    const dep = await readIfThere(host, `${dir}/modules.dep`);
    if (dep === null) noFiles = `no ${dir}/modules.dep: the module files are not known`;
    else files = parseModulesDep(dep);
  }
  const tick = breather(signal);
  for (const m of loaded) {
    await tick();
    items.push(await moduleItem(host, m, dir, files, noFiles));
  }
  return { items, unseen };
}

async function moduleItem(
  host: Host,
  m: LoadedModule,
  dir: string | null,
  files: Map<string, string> | null,
  noFiles: string | null,
): Promise<ModuleItem> {
  const item: ModuleItem = {
    Kind: "module",
    Module: m.name,
    ...EMPTY,
    Size: m.size,
    RefCount: m.refcount,
    UsedBy: m.usedBy.join(", ") || null,
    State: m.state,
    Taint: m.taint || null,
  };
  const rel = files?.get(m.name);
  if (!dir || !files || rel === undefined) {
    return { ...item, FileNote: noFiles ?? `not in ${dir}/modules.dep: its file is not known` };
  }
  const path = rel.startsWith("/") ? rel : `${dir}/${rel}`;
  let bytes: Uint8Array;
  try {
    bytes = await host.readFile(path);
  } catch (e) {
    if (isMissing(e)) {
      return { ...item, Path: path, FileNote: `${path} is not there (removed since it was loaded)` };
    }
    // There but unreadable: an error, so its last known version and signer stay and no change is made up.
    return { ...item, Path: path, error: `cannot read ${path}: ${(e as Error).message}` };
  }
  return { ...item, Path: path, ...moduleFileFields(path, bytes) };
}
