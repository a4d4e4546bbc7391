// Windows (LockFileEx): the state lock excludes a second holder, who can still read who holds it.
import assert from "node:assert/strict";
import { type Holder, tryLock } from "./state_lock.ts";

const holder = (pid: number): Holder => ({
  pid,
  mode: "daemon",
  since: 0,
  version: "test",
  root: null,
  dcr: null,
  os: "windows",
  takesRequests: true,
});

Deno.test("tryLock() on Windows: one holder at a time, the others read who it is, released on release()", async () => {
  const dir = await Deno.makeTempDir();
  const first = tryLock(dir, holder(1));
  assert.ok("lock" in first);
  assert.deepEqual(tryLock(dir, holder(2)), { busy: holder(1) });
  first.lock.release();
  const again = tryLock(dir, holder(2));
  assert.ok("lock" in again);
  again.lock.release();
  await Deno.remove(dir, { recursive: true });
});
