import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { formatAccessAcl, readAccessAclAt, readAccessAclFd, readAccessAclPath } from "./acl_posix.ts";
import * as libc from "./libc_posix.ts";

const names = {
  user: (uid: number) => ({ 0: "root", 65534: "nobody" } as Record<number, string>)[uid],
  group: (gid: number) => ({ 0: "root", 4: "adm" } as Record<number, string>)[gid],
};
const HAVE_ACL = spawnSync("setfacl", ["--version"]).status === 0;
const SKIP = Deno.build.os !== "linux"
  ? "skipped: Linux only"
  : HAVE_ACL
  ? ""
  : "skipped: setfacl/getfacl (Debian acl) is not installed";

/** The xattr bytes of an ACL: version 2, then (tag, perm, id) entries. */
function xattr(entries: [number, number, number][]): Uint8Array {
  const b = new Uint8Array(4 + 8 * entries.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, 2, true);
  entries.forEach(([tag, perm, id], i) => {
    v.setUint16(4 + 8 * i, tag, true);
    v.setUint16(6 + 8 * i, perm, true);
    v.setUint32(8 + 8 * i, id, true);
  });
  return b;
}

Deno.test("formatAccessAcl() writes the base entries from the mode when the file has no ACL xattr", () => {
  assert.equal(formatAccessAcl(0o100644, null, names), "user::rw-,group::r--,other::r--");
  assert.equal(formatAccessAcl(0o40751, null, names), "user::rwx,group::r-x,other::--x");
});

Deno.test("formatAccessAcl() writes every entry in getfacl's order, names where known, ids otherwise", () => {
  const acl = xattr([[0x20, 4, 0], [0x01, 6, 0], [0x02, 7, 1234], [0x02, 7, 65534], [0x04, 4, 0], [
    0x08,
    4,
    4,
  ], [
    0x10,
    7,
    0,
  ]]);
  assert.equal(
    formatAccessAcl(0o100674, acl, names),
    "user::rw-,user:1234:rwx,user:nobody:rwx,group::r--,group:adm:r--,mask::rwx,other::r--",
  );
  assert.throws(
    () => formatAccessAcl(0, new Uint8Array(5), names),
    /Cannot parse a POSIX ACL xattr: 5 bytes/,
  );
  assert.throws(() => formatAccessAcl(0, xattr([[0x40, 7, 0]]), names), /unknown entry tag 0x40/);
});

Deno.test({
  name: `readAccessAcl*() and formatAccessAcl() give getfacl's text of real ACLs${SKIP ? ` (${SKIP})` : ""}`,
  ignore: !!SKIP,
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "ctagent-acl-" });
    try {
      const f = `${dir}/f`;
      Deno.writeTextFileSync(f, "x");
      Deno.chmodSync(f, 0o640);
      const getfacl = () =>
        execFileSync("getfacl", ["--omit-header", "--absolute-names", f], { encoding: "utf8" })
          .split("\n").filter((l) => l).map((l) => l.replace(/\s+#effective:.*$/, "")).join(",");
      const mode = () => Deno.statSync(f).mode!;
      assert.equal(readAccessAclPath(f, false), null, "no ACL beyond the mode");
      assert.equal(formatAccessAcl(mode(), null, names), getfacl());

      execFileSync("setfacl", ["-m", "u:nobody:rwx,g:adm:r,u:1234:r", f]);
      const raw = readAccessAclPath(f, false);
      assert.ok(raw);
      assert.equal(formatAccessAcl(mode(), raw, names), getfacl());
      const fd = libc.openAt(libc.AT_FDCWD, libc.cstr(f), libc.O_RDONLY);
      try {
        assert.deepEqual(readAccessAclFd(fd), raw);
      } finally {
        libc.close(fd);
      }
      const dfd = libc.openAt(libc.AT_FDCWD, libc.cstr(dir), libc.O_RDONLY | libc.O_DIRECTORY);
      try {
        assert.deepEqual(readAccessAclAt(dfd, libc.cstr("f"), false), raw);
        assert.throws(
          () => readAccessAclAt(dfd, libc.cstr("gone"), false),
          /cannot read the access ACL.*ENOENT/,
        );
      } finally {
        libc.close(dfd);
      }
      // chmod on a file with an ACL moves the mask, as getfacl shows it.
      Deno.chmodSync(f, 0o600);
      assert.equal(formatAccessAcl(mode(), readAccessAclPath(f, false), names), getfacl());
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
