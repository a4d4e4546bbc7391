// Test helpers: the shared hive fixtures (../shared, read in place, never copied) and hives built with hivexregedit.
import { fileURLToPath as fromFileUrl } from "node:url";
import { openHive } from "../hive.ts";

/** `../shared/fixtures/hives` relative to the repository root. */
export const SHARED_HIVES = fromFileUrl(new URL("../../../../../shared/fixtures/hives/", import.meta.url));

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function onPath(cmd: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((d) => d && exists(`${d}/${cmd}`));
}

export const sharedPresent = exists(`${SHARED_HIVES}PROVENANCE.md`);
export const hivexPresent = onPath("hivexregedit");
export const xzPresent = onPath("xz");

/** Why a test that needs the shared hives (and maybe tools) is skipped, or "" when it can run. */
export function skipReason(needs: { hivex?: boolean; xz?: boolean } = {}): string {
  if (!sharedPresent) return `skipped: ${SHARED_HIVES} is absent`;
  if (needs.hivex && !hivexPresent) {
    return "skipped: hivexregedit (Debian libwin-hivex-perl) is not installed";
  }
  if (needs.xz && !xzPresent) return "skipped: xz is not installed";
  return "";
}

/** A test name that says when and why the test is skipped (so a skip can never pass for a pass). */
export function named(name: string, reason: string): string {
  return reason ? `${name} (${reason})` : name;
}

/** Temp dirs this test process made (decompressed and built hives); removed when it exits. */
const temps: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const d of temps) {
    try {
      Deno.removeSync(d, { recursive: true });
    } catch { /* already gone */ }
  }
});
async function makeTemp(prefix: string): Promise<string> {
  const d = await Deno.makeTempDir({ prefix });
  temps.push(d);
  return d;
}

let tmp: Promise<string> | undefined;
function tempDir(): Promise<string> {
  tmp ??= makeTemp("ctagent-hives-");
  return tmp;
}

const decompressed = new Map<string, Promise<string>>();

/** The path of a shared hive, decompressed to a temp dir first when it is an .xz file. */
export function sharedHive(name: string): Promise<string> {
  if (!name.endsWith(".xz")) return Promise.resolve(SHARED_HIVES + name);
  let p = decompressed.get(name);
  if (!p) {
    p = (async () => {
      const out = `${await tempDir()}/${name.replace(/\.xz$/, "").replaceAll("/", "_")}`;
      const { code, stdout, stderr } = await new Deno.Command("xz", { args: ["-dc", SHARED_HIVES + name] })
        .output();
      if (code !== 0) throw new Error(`xz -dc ${name}: ${new TextDecoder().decode(stderr)}`);
      await Deno.writeFile(out, stdout);
      return out;
    })();
    decompressed.set(name, p);
  }
  return p;
}

/** What `hivexregedit --export FILE '\'` prints, as bytes. */
export async function hivexExport(file: string, key = "\\"): Promise<Uint8Array> {
  const { code, stdout, stderr } = await new Deno.Command("hivexregedit", { args: ["--export", file, key] })
    .output();
  if (code !== 0) throw new Error(`hivexregedit --export ${file}: ${new TextDecoder().decode(stderr)}`);
  return stdout;
}

/** Lines encoded the way Perl prints them: latin-1 when every character fits, UTF-8 otherwise. */
export function perlBytes(lines: string[]): Uint8Array {
  const enc = new TextEncoder();
  const chunks: number[] = [];
  const out: Uint8Array[] = [];
  for (const line of lines) {
    const s = line + "\n";
    let wide = false;
    for (let i = 0; i < s.length && !wide; i++) wide = s.charCodeAt(i) > 0xff;
    if (!wide) {
      for (let i = 0; i < s.length; i++) chunks.push(s.charCodeAt(i));
    } else {
      out.push(Uint8Array.from(chunks.splice(0)), enc.encode(s));
    }
    if (chunks.length > 1 << 20) out.push(Uint8Array.from(chunks.splice(0)));
  }
  out.push(Uint8Array.from(chunks));
  const all = new Uint8Array(out.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of out) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/**
 * Builds a hive from .reg text with the shared tools (mkemptyhive.py, then `hivexregedit --merge` through
 * build_hive.sh, which adds missing ancestor keys). `prefix` is the key the hive's root stands for.
 */
export async function buildHive(
  reg: string,
  prefix: string,
  rootName: string,
): Promise<{ file: string; bytes: Uint8Array }> {
  const dir = await makeTemp("ctagent-built-hive-");
  const regFile = `${dir}/in.reg`, out = `${dir}/out.hive`;
  await Deno.writeTextFile(regFile, reg);
  const { code, stderr } = await new Deno.Command("sh", {
    args: [`${SHARED_HIVES}tools/build_hive.sh`, out, prefix, rootName, regFile],
  }).output();
  if (code !== 0) throw new Error(`build_hive.sh: ${new TextDecoder().decode(stderr)}`);
  return { file: out, bytes: await Deno.readFile(out) };
}

/** `.reg` hex bytes of a string as UTF-16LE with its NUL (for hex(2)/hex(7) lines). */
export function regUtf16(s: string): string {
  const bytes: string[] = [];
  for (const c of s + "\0") {
    const u = c.charCodeAt(0);
    bytes.push((u & 0xff).toString(16).padStart(2, "0"), (u >> 8).toString(16).padStart(2, "0"));
  }
  return bytes.join(",");
}

export function regHex(bytes: Uint8Array | number[]): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(",");
}

/** File offset of the field holding the value list's cell offset in the key node at `path` (to damage it). */
export function valueListField(bytes: Uint8Array, path: string): number {
  const k = openHive(bytes).lookup(path);
  if (!k) throw new Error(`no key ${path}`);
  return 0x1000 + k.offset + 4 + 0x28;
}

/** Marks the cell of the value list of the key at `path` free, as damage can leave it; its file offset. */
export function freeValueList(bytes: Uint8Array, path: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = 0x1000 + view.getUint32(valueListField(bytes, path), true);
  view.setInt32(at, -view.getInt32(at, true), true);
  return at;
}
