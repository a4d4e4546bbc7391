// Who collects and delivers for a data directory: the state lock taken for a mode, and `--once` asking the daemon.
import { resolve } from "node:path";
import type { Platform } from "./platform.ts";
import type { Logger } from "./log.ts";
import type { OnceResult } from "./once.ts";
import type { CollectorStatus } from "./pipeline/scheduler.ts";
import { describeHolder, type Holder, lockWhenFree, type StateLock, tryLock } from "./state_lock.ts";
import { storageProblem } from "../db/errors.ts";
import type { Db } from "../db/open.ts";
import { askDaemon, DaemonNotAnswering, type RunResult } from "./run_requests.ts";
import { VERSION } from "./version.ts";

/** What this process is about to do with the data directory. */
export interface Claim {
  mode: "daemon" | "once";
  dataDir: string;
  root?: string;
  dcr?: string;
  os: Platform;
}

/** The lock (this process owns the state), the daemon that owns it (ask it), or why neither (exit 19). */
export type Claimed = { lock: StateLock } | { daemon: Holder } | { refused: string };

export function holderFor(c: Claim): Holder {
  return {
    pid: Deno.pid,
    mode: c.mode,
    since: Date.now(),
    version: VERSION,
    root: c.root ? resolve(c.root) : null,
    dcr: c.dcr ? resolve(c.dcr) : null,
    os: c.os,
    takesRequests: c.mode === "daemon",
  };
}

/** How `h` collects differently from `me`, as flags ("" when the same). */
function difference(h: Holder, me: Holder): string {
  const flag = (name: string, v: string | null) => v === null ? `no ${name}` : `${name} ${v}`;
  const out: string[] = [];
  if (h.root !== me.root) {
    out.push(`it runs with ${flag("--root", h.root)}, this one with ${flag("--root", me.root)}`);
  }
  if (h.dcr !== me.dcr) {
    out.push(`it runs with ${flag("--dcr", h.dcr)}, this one with ${flag("--dcr", me.dcr)}`);
  }
  if (h.os !== me.os) out.push(`it collects ${h.os}, this one ${me.os}`);
  return out.join("; ");
}

/**
 * Takes the state lock of the data directory for `c.mode`. Another `--once` holding it is waited for (it ends
 * soon); a daemon holding it is asked to run by a `--once` that collects what it collects, and refuses
 * anything else with a message that says who holds what and what to do.
 */
export async function claimState(c: Claim, log: Logger, signal?: AbortSignal): Promise<Claimed> {
  const me = holderFor(c);
  const dir = c.dataDir;
  let outcome: Claimed | undefined;
  let told = "";
  let unknownSince: number | undefined;
  const waitFor = (who: string) => {
    if (who !== told) (c.mode === "once" ? log.warn : log.info)(`waiting for ${who} to finish with ${dir}`);
    told = who;
    return true;
  };
  try {
    const lock = await lockWhenFree(dir, me, {
      signal,
      onBusy(h) {
        if (!h) {
          // Its description is being written (or could not be): give it a moment, then wait as for a --once.
          unknownSince ??= performance.now();
          return performance.now() - unknownSince < 2000 || waitFor("another ctagent process");
        }
        if (h.mode === "once") return waitFor(describeHolder(h));
        const differs = difference(h, me);
        if (c.mode === "daemon") {
          outcome = {
            refused:
              `another ctagent daemon (pid ${h.pid}) already runs with ${dir}: stop it first, or give ` +
              `this one another --data-dir`,
          };
        } else if (differs || !h.takesRequests) {
          outcome = {
            refused:
              `${describeHolder(h)} holds the state in ${dir} and collects differently (${
                differs || `it is ctagent ${h.version}, which takes no requests`
              }): run --once with the daemon's settings (it then asks the daemon), stop the daemon, or use ` +
              `another --data-dir`,
          };
        } else outcome = { daemon: h };
        return false;
      },
    });
    return lock ? { lock } : outcome!;
  } catch (e) {
    const problem = storageProblem(e);
    if (!problem) throw e;
    return { refused: `cannot take the state lock in ${dir}: ${problem.message}: ${problem.advice}` };
  }
}

/**
 * `--once` while the daemon owns the state: asks it to run and returns its result; or, when the daemon went
 * away meanwhile, the state lock (this process then runs the collectors itself).
 */
export async function onceViaDaemon(
  opts: { db: Db; log: Logger; claim: Claim; daemon: Holder; signal?: AbortSignal; keepChanges?: number },
): Promise<{ result: RunResult } | { lock: StateLock } | { refused: string }> {
  let lock: StateLock | undefined;
  opts.log.info(`asking ${describeHolder(opts.daemon)} to run the collectors`);
  try {
    const result = await askDaemon({
      db: opts.db,
      log: opts.log,
      signal: opts.signal,
      keepChanges: opts.keepChanges,
      daemonGone() {
        const r = tryLock(opts.claim.dataDir, holderFor(opts.claim));
        if ("lock" in r) lock = r.lock;
        return !!lock;
      },
    });
    return result ? { result } : { lock: lock! };
  } catch (e) {
    lock?.release();
    if (!(e instanceof DaemonNotAnswering)) throw e;
    return {
      refused: `${describeHolder(opts.daemon)} holds the state in ${opts.claim.dataDir}, and ${e.message}: ` +
        `see its log, or stop it and run --once again`,
    };
  }
}

/** The collectors a pass leaves out, and why, as `--once` lists them. */
export function skippedBy(status: CollectorStatus[], os: Platform): OnceResult["skipped"] {
  return status.filter((c) => c.state !== "enabled").map((c) => ({
    collector: c.name,
    reason: c.state === "unsupported" ? `does not apply to ${os}` : "disabled by the DCR",
  }));
}
