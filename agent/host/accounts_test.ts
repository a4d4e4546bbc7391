import assert from "node:assert/strict";
import { loadAccounts, parseIdFile, parseNameFile } from "./accounts.ts";
import { liveHost } from "./mod.ts";

Deno.test("parseIdFile() maps ids to the first name, skipping comments and broken lines", () => {
  const m = parseIdFile(
    "root:x:0:0:root:/root:/bin/bash\n# c\nbroken\ntoor:x:0:0::/:/bin/sh\nnobody:x:65534:65534::/:\n",
  );
  assert.deepEqual([...m], [[0, "root"], [65534, "nobody"]]);
});

Deno.test("loadAccounts() reads the host's files and warns (no throw) when they are missing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/etc`);
    await Deno.writeTextFile(`${dir}/etc/passwd`, "alice:x:1000:1000::/home/alice:/bin/sh\n");
    const a = await loadAccounts(liveHost({ root: dir }));
    assert.equal(a.users.get(1000), "alice");
    assert.deepEqual([...a.userIds!], [["alice", 1000]]);
    assert.equal(a.groups.size, 0);
    assert.match(a.warnings[0], /\/etc\/group/);
    assert.equal(a.unknown, null, "a missing file has no names: none are unknown");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadAccounts(): a file that is there but cannot be read makes names unknown, not absent", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/etc/passwd`, { recursive: true }); // read(2) fails: EISDIR
    await Deno.writeTextFile(`${dir}/etc/group`, "wheel:x:10:\n");
    const a = await loadAccounts(liveHost({ root: dir }));
    assert.match(a.unknown ?? "", /^cannot read \/etc\/passwd: EISDIR/);
    assert.equal(a.groups.get(10), "wheel");
    assert.match(a.warnings.join("\n"), /cannot read \/etc\/passwd for owner names/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadAccounts() says who exists only when /etc/passwd could be read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = await loadAccounts(liveHost({ root: dir }));
    assert.equal(a.userIds, null);
    assert.match(a.warnings[0], /\/etc\/passwd/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseNameFile() keeps every name of a shared id", () => {
  assert.deepEqual(
    [...parseNameFile("root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\nroot:x:5:5::/:\n")],
    [["root", 0], ["toor", 0]],
  );
});
