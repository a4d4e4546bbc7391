// The scheduled_tasks collector's spec: what runs by itself (cron, anacron, run-parts, systemd timers, at jobs,
// Windows Task Scheduler), on ctagent's own schedule; not one of the DCR's kinds, so never on AMA's streams.
import { defineCollector } from "../spec.ts";
import type { TaskItem } from "./types.ts";

export default defineCollector<TaskItem>({
  name: "scheduled_tasks",
  label: "Scheduled tasks",
  nouns: ["task", "tasks"],
  platforms: ["linux", "windows"],
  schedule: { dcr: null, setting: "scheduledTasks", defaultSeconds: 300 },
  dataType: { linux: "ScheduledTasks", windows: "ScheduledTasks" },
  toAma: false,
  // As taskKey() in types.ts (a spec imports nothing the page bundle cannot carry).
  key: (i) => `${i.Kind} ${i.Task}`,
  nameField: "Task",
  // A line added above a cron job moves it: not a change of the job.
  volatile: ["Line"],
  columns: [
    { field: "Task", label: "Task", style: "strong" },
    { field: "Kind", label: "Kind" },
    { field: "Schedule", label: "Schedule", style: "mono" },
    { field: "User", label: "User" },
    { field: "Enabled", label: "Enabled" },
    { field: "Command", label: "Command", style: "mono dim" },
  ],
  sortable: ["Source"],
  filterable: ["Kind", "User", "Enabled"],
  mirror: null,
  content: false,
  page: {
    icon: "T",
    shortcut: "t",
    color: ["#b45309", "#fbbf24"],
    empty: "No scheduled tasks found yet: the scheduled_tasks collector has not run.",
    important: ["Schedule", "Command", "User", "Enabled", "Reason"],
    summary: "Schedule",
  },
});
