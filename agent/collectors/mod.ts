// The one list of collectors. Adding a collector is one folder plus one line here; nothing else names it.
import type { Collector } from "./types.ts";
import software from "./software/mod.ts";
import services from "./services/mod.ts";
import files from "./files/mod.ts";
import registry from "./registry/mod.ts";
import users from "./users/mod.ts";
import scheduledTasks from "./scheduled_tasks/mod.ts";

/** Every collector, in the order the page lists them and `--once` runs them. */
export const COLLECTORS: readonly Collector[] = [
  software,
  services,
  files,
  registry,
  users,
  scheduledTasks,
];

/** The collector named `name`, or undefined. */
export function collectorNamed(name: string): Collector | undefined {
  return COLLECTORS.find((c) => c.name === name);
}
