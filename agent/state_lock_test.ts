import assert from "node:assert/strict";
import { describeHolder, type Holder, lockWhenFree, readHolder, tryLock } from "./state_lock.ts";

const holder = (pid: number, mode: Holder["mode"] = "daemon"): Holder => ({
  pid,
  mode,
  since: Date.UTC(2026, 0, 2, 3, 4, 5),
  version: "1.2.3",
  root: null,
  dcr: "/etc/ctagent/dcr.json",
  os: "linux",
  takesRequests: mode === "daemon",
});

Deno.test("tryLock() gives the state lock to one holder at a time and names it to the others", async () => {
  const dir = await Deno.makeTempDir();
  const first = tryLock(dir, holder(111));
  assert.ok("lock" in first);
  const second = tryLock(dir, holder(222, "once"));
  assert.deepEqual(second, { busy: holder(111) });
  assert.equal(describeHolder(readHolder(dir)), "the ctagent daemon (pid 111, since 03:04:05 UTC)");
  first.lock.release();
  assert.equal(readHolder(dir), undefined, "the description goes with the lock");
  const third = tryLock(dir, holder(222, "once"));
  assert.ok("lock" in third);
  third.lock.release();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("lockWhenFree() waits while another holds the lock, and stops when told to", async () => {
  const dir = await Deno.makeTempDir();
  const first = tryLock(dir, holder(111, "once"));
  assert.ok("lock" in first);
  const seen: (number | undefined)[] = [];
  setTimeout(() => first.lock.release(), 300);
  const got = await lockWhenFree(dir, holder(222), { pollMs: 20, onBusy: (h) => (seen.push(h?.pid), true) });
  assert.equal(got?.holder.pid, 222);
  assert.ok(seen.length >= 2 && seen.every((p) => p === 111), `told ${seen}`);
  assert.equal(await lockWhenFree(dir, holder(333), { onBusy: () => false }), undefined);
  got!.release();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a process killed -9 no longer holds the state lock", async () => {
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./testdata/hold_lock.ts", import.meta.url).pathname, dir],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  assert.equal((await reader.read()).value?.trim(), "held");
  const busy = tryLock(dir, holder(222));
  assert.ok("busy" in busy && busy.busy?.pid === child.pid, JSON.stringify(busy));
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  const after = tryLock(dir, holder(222));
  assert.ok("lock" in after, "the dead process's lock is gone");
  after.lock.release();
  await Deno.remove(dir, { recursive: true });
});
