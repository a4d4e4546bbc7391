// A hive (or one key of it) as .reg text in the exact shape `hivexregedit --export` prints: for dumps and checks.
import type { Hive, HiveKey } from "./hive.ts";
import { HiveError } from "./hive.ts";

function quote(s: string): string {
  return s.replaceAll("\\", "\\\\").replaceAll('"', '\\"');
}

/**
 * Perl `cmp` order (code points), which hivexregedit sorts keys and values by. UTF-16 order equals it
 * except for characters beyond the BMP, which only then take the slow path.
 */
function cmp(a: string, b: string): number {
  if (!/[\ud800-\udfff]/.test(a + b)) return a < b ? -1 : a > b ? 1 : 0;
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d) return d;
  }
  return x.length - y.length;
}

function hexBytes(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join(",");
}

/**
 * Writes `[path]` sections for `start` and everything below it, depth first, children and values sorted,
 * DWORDs of 4 bytes as `dword:`, everything else as `hex(type):` bytes. Keys under a loop are reported, not revisited.
 */
export function exportHive(hive: Hive, start: HiveKey = hive.root(), startPath = "\\"): string[] {
  const lines: string[] = ["Windows Registry Editor Version 5.00", ""];
  const seen = new Set<number>();
  const walk = (k: HiveKey, path: string) => {
    if (seen.has(k.offset)) {
      throw new HiveError(hive.source, k.offset + 0x1000, `key ${path} is its own ancestor`);
    }
    seen.add(k.offset);
    lines.push(`[${path}]`);
    const values = hive.values(k).sort((a, b) => cmp(a.name, b.name));
    for (const v of values) {
      const name = v.name === "" ? "@=" : `"${quote(v.name)}"=`;
      if (v.type === 4 && v.data.length === 4) {
        const dw = new DataView(v.data.buffer, v.data.byteOffset, 4).getUint32(0, true);
        lines.push(`${name}dword:${dw.toString(16).padStart(8, "0")}`);
      } else {
        lines.push(`${name}hex(${v.type.toString(16)}):${hexBytes(v.data)}`);
      }
    }
    lines.push("");
    const children = hive.subkeys(k).sort((a, b) => cmp(a.name, b.name));
    for (const c of children) walk(c, path.endsWith("\\") ? path + c.name : `${path}\\${c.name}`);
  };
  walk(start, startPath);
  return lines;
}

if (import.meta.main) {
  const [file, path = ""] = Deno.args;
  if (!file) {
    console.error("usage: deno run -A agent/host/registry/export.ts HIVE [KEY\\PATH]");
    Deno.exit(2);
  }
  const { openHive } = await import("./hive.ts");
  const hive = openHive(await Deno.readFile(file), file);
  const k = hive.lookup(path);
  if (!k) {
    console.error(`${file}: no key ${path}`);
    Deno.exit(1);
  }
  console.log(exportHive(hive, k, "\\" + path).join("\n"));
}
