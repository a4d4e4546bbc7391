// Test helper: a tree whose keys sort apart from a plain depth-first walk of it.

/** Names whose keys sort apart from their directory's walk: "a-b" and "a.c" before "a/…", astral after U+FFFD. */
export async function keyOrderTree(): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const d of ["a", "a/z", "b", "\ufffd", "\u{1F600}"]) await Deno.mkdir(`${dir}/${d}`);
  for (const f of ["a-b", "a.c", "a0", "a/x", "a/z/y", "a/z-", "b/k", "\ufffd/m", "\u{1F600}/n", "\ue000"]) {
    await Deno.writeTextFile(`${dir}/${f}`, f);
  }
  return dir;
}
