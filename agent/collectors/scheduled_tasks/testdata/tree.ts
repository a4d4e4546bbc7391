// Builds a machine tree for --root tests on the real file system: files with modes and owners, links, directories.
import { dirname } from "node:path";

export type Node = string | { data: string | Uint8Array; mode?: number; uid?: number } | { link: string } | {
  dir: true;
};

/** Writes `tree` (machine paths) under a new temp directory and returns it; never through a link out of it. */
export function buildTree(tree: Record<string, Node>): string {
  const root = Deno.makeTempDirSync({ prefix: "ctagent-tasks-" });
  Deno.chmodSync(root, 0o755);
  for (const [p, n] of Object.entries(tree)) addNode(root, p, n);
  return root;
}

/** Adds (or replaces) one node of a tree made by `buildTree`. */
export function addNode(root: string, p: string, n: Node): void {
  Deno.mkdirSync(dirname(root + p), { recursive: true, mode: 0o755 });
  try {
    Deno.removeSync(root + p, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (typeof n === "object" && "link" in n) return Deno.symlinkSync(n.link, root + p);
  if (typeof n === "object" && "dir" in n) return Deno.mkdirSync(root + p, { recursive: true });
  const file = typeof n === "string" ? { data: n } : n;
  const data = typeof file.data === "string" ? new TextEncoder().encode(file.data) : file.data;
  Deno.writeFileSync(root + p, data);
  Deno.chmodSync(root + p, file.mode ?? 0o644);
  if (file.uid !== undefined) Deno.chownSync(root + p, file.uid, null);
}
