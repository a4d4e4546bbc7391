// Runs each enabled collector at start and then at its frequency (the DCR's or ctagent's), never overlapping itself.
import type { Collector, CollectorSettings, Scope } from "../collectors/types.ts";
import { scheduleOf, switchedBy } from "../collectors/spec.ts";
import type { Platform } from "../platform.ts";
import { type Clock, realClock } from "../clock.ts";
import type { Settings } from "../config/dcr.ts";
import type { Logger } from "../log.ts";

export interface CollectorStatus {
  name: string;
  /** enabled | disabled (by the DCR or ctagent's settings) | unsupported (not on this OS) */
  state: "enabled" | "disabled" | "unsupported";
  frequency: number;
  running: boolean;
  /** Epoch ms of the next scheduled run, when enabled. */
  nextRunAt?: number;
  lastStartedAt?: number;
}

/** A run of part of a collector (a realtime re-collection), or of all of it for a reason other than the clock. */
export interface PartialRun {
  /** The items to look at; "all": every item (a fallback rescan, a poll), still as a partial run. */
  scope: Scope | "all";
  /** The record fields saying who made each change, by key. */
  origin?: (key: string) => Record<string, string> | undefined;
  /** Why it runs, for the log: "realtime", "overflow", "poll" … */
  reason: string;
}

export interface Scheduler {
  /** Applies a (new) DCR: frequencies change, collectors switch on and off, live. */
  apply(settings: Settings): void;
  /**
   * Runs one collector (or all enabled ones) now; resolves when they finished, with what each run that started
   * for this call returned (`run`'s results). Runs in flight are joined first, then run once more.
   */
  scanNow(name?: string): Promise<unknown[]>;
  /**
   * Runs part of a collector now, after whatever run of it is in flight or queued (never alongside one);
   * resolves with what `run` returned, undefined when the collector is not enabled or the scheduler stopped.
   */
  runPartial(name: string, partial: PartialRun): Promise<unknown>;
  status(): CollectorStatus[];
  /** Starts the timers of a scheduler created `paused`. */
  start(): void;
  /** Stops timers, aborts runs in flight and waits for them. */
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  collectors: readonly Collector[];
  os: Platform;
  settings: Settings;
  /** ctagent's own settings of the collectors the DCR does not schedule. */
  collectorSettings?: CollectorSettings;
  log: Logger;
  /** Runs one collector (part of it with `partial`); must not throw for a collector failure. */
  run(collector: Collector, settings: Settings, signal: AbortSignal, partial?: PartialRun): Promise<unknown>;
  /** Random delay added to each interval, as a fraction of the frequency (capped at maxJitterMs). */
  jitter?: number;
  maxJitterMs?: number;
  random?: () => number;
  /** Time and timers (default the real ones; tests move a fake). */
  clock?: Clock;
  /** Schedule nothing until start() (so the page is served before the first collections compete with it). */
  paused?: boolean;
}

interface Slot {
  collector: Collector;
  state: CollectorStatus["state"];
  frequency: number;
  timer?: unknown;
  nextRunAt?: number;
  lastStartedAt?: number;
  /** When the last run started, in the clock's elapsed time: what the next run is measured from. */
  lastStartedMono?: number;
  /** The scheduled (whole) run in flight or queued: resolves with what `run` returned (undefined when it threw). */
  running?: Promise<unknown>;
  /** Every run of the collector, whole or partial, one after the other: the last one queued. */
  queue: Promise<unknown>;
}

export function createScheduler(opts: SchedulerOptions): Scheduler {
  const { log, os } = opts;
  const random = opts.random ?? Math.random;
  const clock = opts.clock ?? realClock;
  const ac = new AbortController();
  let settings = opts.settings;
  let stopped = false;
  let holding = opts.paused ?? false;
  const slots: Slot[] = opts.collectors.map((collector) => ({
    collector,
    state: "disabled",
    frequency: 0,
    queue: Promise.resolve(),
  }));

  /** Queues `fn` after every run of the slot queued before it. */
  const serial = (s: Slot, fn: () => Promise<unknown>): Promise<unknown> => {
    const p = s.queue.then(fn);
    s.queue = p.catch(() => undefined);
    return p;
  };

  for (const s of slots) {
    if (!s.collector.platforms.includes(os)) {
      s.state = "unsupported";
      log.info(`collector ${s.collector.name} does not apply to ${os}; not scheduled`, {
        collector: s.collector.name,
      });
    }
  }

  const jitterMs = (freqMs: number) =>
    Math.floor(random() * Math.min(freqMs * (opts.jitter ?? 0.05), opts.maxJitterMs ?? 30_000));

  /**
   * Milliseconds until `freqMs` after the slot's last start: elapsed time, never the wall clock, which an
   * operator or NTP may set back an hour in the middle of a run.
   */
  const dueIn = (s: Slot, freqMs: number) =>
    s.lastStartedMono === undefined ? freqMs : s.lastStartedMono + freqMs - clock.monotonic();

  const schedule = (s: Slot, delayMs: number) => {
    clock.clearTimeout(s.timer);
    if (stopped || holding || s.state !== "enabled") {
      s.timer = undefined;
      s.nextRunAt = undefined;
      return;
    }
    s.nextRunAt = clock.now() + delayMs;
    s.timer = clock.setTimeout(() => void fire(s), delayMs);
  };

  const fire = (s: Slot): Promise<unknown> => {
    if (s.running) return s.running; // never overlap: join the run in flight
    if (stopped) return Promise.resolve();
    s.lastStartedAt = clock.now();
    s.lastStartedMono = clock.monotonic();
    const running = serial(s, () => {
      // A partial run before it may have taken a while: the period counts from the start of this one.
      s.lastStartedAt = clock.now();
      s.lastStartedMono = clock.monotonic();
      return opts.run(s.collector, settings, ac.signal);
    })
      .catch((e) => log.error(`collector ${s.collector.name} run crashed`, { error: e }))
      .finally(() => {
        s.running = undefined;
        const freqMs = s.frequency * 1000;
        schedule(s, Math.max(0, dueIn(s, freqMs)) + jitterMs(freqMs));
      });
    s.running = running;
    clock.clearTimeout(s.timer);
    s.nextRunAt = undefined;
    return running;
  };

  const apply = (next: Settings) => {
    settings = next;
    slots.forEach((s, i) => {
      if (s.state === "unsupported") return;
      const { enabled, frequency } = scheduleOf(s.collector, next, opts.collectorSettings);
      const was = s.state;
      const oldFreq = s.frequency;
      s.state = enabled ? "enabled" : "disabled";
      s.frequency = frequency;
      if (!enabled) {
        if (was === "enabled") {
          log.info(`collector ${s.collector.name} switched off by ${switchedBy(s.collector)}`, {
            collector: s.collector.name,
          });
        }
        schedule(s, 0);
      } else if (was !== "enabled") {
        // At start (or when switched on): run now, a little staggered so collectors don't all start at once.
        schedule(s, i * 50 + Math.floor(random() * 200));
      } else if (oldFreq !== frequency && !s.running) {
        const due = dueIn(s, frequency * 1000);
        log.info(`collector ${s.collector.name} frequency ${oldFreq} s → ${frequency} s`, {
          collector: s.collector.name,
        });
        schedule(s, Math.max(0, due));
      }
    });
  };

  apply(settings);

  return {
    apply,
    start() {
      if (!holding) return;
      holding = false;
      slots.forEach((s, i) => {
        if (s.state === "enabled" && !s.running) schedule(s, i * 50 + Math.floor(random() * 200));
      });
    },
    async scanNow(name) {
      const targets = slots.filter((s) => s.state === "enabled" && (!name || s.collector.name === name));
      if (name && targets.length === 0) {
        const slot = slots.find((s) => s.collector.name === name);
        throw new RangeError(
          `Cannot scan ${name}: ${slot ? `collector is ${slot.state}` : "no such collector"}`,
        );
      }
      // A run already in flight may have started before what the user wants seen: run once more after it.
      return await Promise.all(targets.map(async (s) => {
        if (s.running) await s.running;
        return await fire(s);
      }));
    },
    runPartial(name, partial) {
      const s = slots.find((x) => x.collector.name === name);
      if (!s || s.state !== "enabled" || stopped) return Promise.resolve(undefined);
      return serial(
        s,
        () => stopped ? Promise.resolve(undefined) : opts.run(s.collector, settings, ac.signal, partial),
      )
        .catch((e) => log.error(`collector ${name} ${partial.reason} run crashed`, { error: e }));
    },
    status: () =>
      slots.map((s) => ({
        name: s.collector.name,
        state: s.state,
        frequency: s.frequency,
        running: !!s.running,
        nextRunAt: s.nextRunAt,
        lastStartedAt: s.lastStartedAt,
      })),
    async stop() {
      stopped = true;
      ac.abort();
      for (const s of slots) clock.clearTimeout(s.timer);
      await Promise.all(slots.map((s) => s.queue));
    },
  };
}
