import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { V8_FLAGS_ARG } from "../../../build/v8_flags.ts";
import { AT_FDCWD, cstr, failure, parseStatx, statEquals, statInto, TRIES } from "./libc_posix.ts";

const ENOENT = 2, EBADF = 9;

/** libc calls of the test's own that fail with a known errno, setting this thread's errno as a misread would. */
const setErrno = Deno.build.os === "linux"
  ? Deno.dlopen("libc.so.6", {
    close: { parameters: ["i32"], result: "i32" },
    access: { parameters: ["buffer", "i32"], result: "i32" },
  }).symbols
  : undefined;
const MISSING = new TextEncoder().encode("/nonexistent/ctagent-libc-test\0");
const enoent = () => assert.equal(setErrno!.access(MISSING, 0), -1);
const ebadf = () => assert.equal(setErrno!.close(-1), -1);

Deno.test({
  name:
    "failure(): an errno is believed when two tries read it, an everyday answer at once, the last after TRIES",
  ignore: !setErrno,
  fn() {
    // The same errno twice: believed on the second try.
    enoent();
    assert.equal(failure(1), undefined);
    enoent();
    assert.equal(failure(2), ENOENT);
    // An everyday answer of the call: believed at once.
    enoent();
    assert.equal(failure(1, [ENOENT]), ENOENT);
    // A misread (EBADF left by someone else), then the call's own errno twice.
    ebadf();
    assert.equal(failure(1), undefined);
    enoent();
    assert.equal(failure(2), undefined, "EBADF then ENOENT: not yet");
    enoent();
    assert.equal(failure(3), ENOENT);
    // Every try different: the last one's after TRIES tries.
    assert.equal(TRIES, 3);
    ebadf();
    assert.equal(failure(1), undefined);
    enoent();
    assert.equal(failure(2), undefined);
    ebadf();
    assert.equal(failure(3), EBADF);
  },
});

Deno.test({
  name:
    "a failed call's errno is read right under ctagent's V8 flags (young generation at 1 MB), however often the runtime runs in between",
  ignore: Deno.build.os !== "linux",
  fn() {
    // Two million fgetxattr calls of a file without an ACL (ENODATA each), with garbage made between them. Read
    // directly after each call, errno was something else 4-9 times (EAGAIN; ENOENT once in another run), left
    // there by the runtime's own code on the thread: each a file without an ACL taken for an unreadable one.
    // The young generation at 1 MB (as ctagent's flags had it then): a collection every few thousand calls.
    const lib = new URL("./libc_posix.ts", import.meta.url).href;
    const dir = Deno.makeTempDirSync();
    try {
      Deno.writeTextFileSync(`${dir}/plain`, "no ACL here\n");
      const script = `
        import { AT_FDCWD, cstr, getXattr, O_RDONLY, openAt } from ${JSON.stringify(lib)};
        const name = new TextEncoder().encode("system.posix_acl_access\\0");
        const buf = new Uint8Array(64);
        const fd = openAt(AT_FDCWD, cstr(${JSON.stringify(`${dir}/plain`)}), O_RDONLY);
        const answers = {};
        let keep = [];
        for (let i = 0; i < 2_000_000; i++) {
          const n = getXattr(fd, name, buf, 64n);
          answers[n] = (answers[n] ?? 0) + 1;
          keep.push({ i, s: "x" + i, a: new Array(8).fill(i) });
          if (keep.length > 20_000) keep = [];
        }
        console.log(JSON.stringify(answers));
      `;
      const flags = `${V8_FLAGS_ARG},--max-semi-space-size=1`;
      const r = spawnSync(Deno.execPath(), ["eval", flags, script], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { "-61": 2_000_000 }, "every answer ENODATA");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "statEquals says a statx buffer equal to a Stat exactly when parseStatx would make that Stat of it",
  ignore: Deno.build.os !== "linux",
  fn() {
    const dir = Deno.makeTempDirSync();
    try {
      Deno.writeTextFileSync(`${dir}/file`, "some bytes\n");
      Deno.symlinkSync("file", `${dir}/link`);
      for (const path of [`${dir}/file`, `${dir}/link`, dir, Deno.execPath(), "/dev/null"]) {
        const raw = new Uint8Array(256);
        assert.equal(statInto(AT_FDCWD, cstr(path), false, raw), 0, path);
        const st = parseStatx(raw);
        assert.ok(statEquals(raw, st), path);
        // Every byte parseStatx may read, changed one at a time: the oracle is parseStatx itself.
        let differ = 0;
        for (let at = 0; at < 144; at++) {
          for (const bit of [0x01, 0x80]) {
            const changed = raw.slice();
            changed[at] ^= bit;
            const same = JSON.stringify(parseStatx(changed)) === JSON.stringify(st);
            assert.equal(statEquals(changed, st), same, `${path}: byte ${at} ^ ${bit}`);
            if (!same) differ++;
          }
        }
        // Each field's bytes were among those changed (a check that ignored one would have failed above).
        assert.ok(differ > 100, `${path}: ${differ} changes made another Stat`);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
