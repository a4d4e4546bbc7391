// The scheduled_tasks collector: every source of the host's OS read, each failing on its own (what it could not
// read is unseen, never removed), keys made unique.
import type { Collector } from "../types.ts";
import { implement } from "../spec.ts";
import { type Accounts, loadAccounts } from "../../host/accounts.ts";
import spec from "./spec.ts";
import { type TaskItem, taskKey, type TaskSource } from "./types.ts";
import { crontabs } from "./crontabs.ts";
import { anacron } from "./anacron.ts";
import { runParts } from "./run_parts.ts";
import { timers } from "./timers.ts";
import { atJobs } from "./at.ts";
import { taskScheduler } from "./task_scheduler.ts";

export const SOURCES: TaskSource[] = [crontabs, anacron, runParts, timers, atJobs, taskScheduler];

/**
 * Two items of one key (the same command twice in a crontab, a hostile file name that spells another's key)
 * become `… (2)`, `… (3)` in the order read, so none hides another.
 */
export function uniqueTasks(items: TaskItem[]): TaskItem[] {
  const seen = new Map<string, number>();
  return items.map((item) => {
    const key = taskKey(item);
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n === 1) return item;
    let task = `${item.Task} (${n})`;
    while (seen.has(taskKey({ ...item, Task: task }))) task = `${task}′`;
    seen.set(taskKey({ ...item, Task: task }), 1);
    return { ...item, Task: task };
  });
}

export function scheduledTasksCollector(sources: TaskSource[] = SOURCES): Collector<TaskItem> {
  return implement(spec, async (_settings, { host, signal }) => {
    let accounts: Promise<Accounts> | undefined;
    const ctx = { host, signal, accounts: () => accounts ??= loadAccounts(host) };
    const items: TaskItem[] = [], unseen: string[] = [], warnings: string[] = [];
    for (const source of sources) {
      if (!source.platforms.includes(host.os)) continue;
      signal.throwIfAborted();
      const read = await source.read(ctx);
      items.push(...read.items);
      unseen.push(...read.unseen);
      warnings.push(...read.warnings);
    }
    return { items: uniqueTasks(items), unseen, warnings };
  }, {
    // What each source of the host's OS reads: a change anywhere there re-reads them all (one item's source
    // file can hold many tasks, and a task's key says nothing of its file).
    targets: (_settings, host) =>
      sources.filter((s) => s.platforms.includes(host.os)).flatMap((s) => s.watches(host))
        .map((p) => ({ path: p.path, depth: p.depth ?? 0, items: null })),
  });
}

export default scheduledTasksCollector();
