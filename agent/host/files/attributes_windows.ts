// Windows file attributes: GetFileAttributesW through FFI (kernel32 opened on first use) and their names.

/** FILE_ATTRIBUTE_* bits and the names .NET's FileAttributes (and PowerShell) print for them. */
const NAMES: [number, string][] = [
  [0x1, "ReadOnly"],
  [0x2, "Hidden"],
  [0x4, "System"],
  [0x10, "Directory"],
  [0x20, "Archive"],
  [0x40, "Device"],
  [0x80, "Normal"],
  [0x100, "Temporary"],
  [0x200, "SparseFile"],
  [0x400, "ReparsePoint"],
  [0x800, "Compressed"],
  [0x1000, "Offline"],
  [0x2000, "NotContentIndexed"],
  [0x4000, "Encrypted"],
  [0x8000, "IntegrityStream"],
  [0x20000, "NoScrubData"],
  [0x40000, "RecallOnOpen"],
  [0x80000, "Pinned"],
  [0x100000, "Unpinned"],
  [0x400000, "RecallOnDataAccess"],
];

/** `0x23` → "ReadOnly, Hidden, Archive" (unknown bits as 0x…, in bit order, so equal bits give equal text). */
export function formatFileAttributes(bits: number): string {
  const out: string[] = [];
  let rest = bits >>> 0;
  for (const [bit, name] of NAMES) {
    if (rest & bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push(`0x${(rest >>> 0).toString(16)}`);
  return out.join(", ");
}

const INVALID_FILE_ATTRIBUTES = 0xffffffff;
let lib: Deno.DynamicLibrary<{ GetFileAttributesW: { parameters: ["buffer"]; result: "u32" } }> | undefined;

/** The attribute bits of a path on the running Windows machine; null when it cannot be read (e.g. missing). */
export function readFileAttributes(path: string): number | null {
  if (Deno.build.os !== "windows") throw new Error("readFileAttributes() is for Windows only");
  lib ??= Deno.dlopen("kernel32.dll", { GetFileAttributesW: { parameters: ["buffer"], result: "u32" } });
  const wide = new Uint16Array(path.length + 1);
  for (let i = 0; i < path.length; i++) wide[i] = path.charCodeAt(i);
  const bits = lib.symbols.GetFileAttributesW(wide);
  return bits === INVALID_FILE_ATTRIBUTES ? null : bits;
}
