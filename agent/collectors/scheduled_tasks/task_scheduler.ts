// Windows Task Scheduler: the task store (%SystemRoot%\System32\Tasks, one XML definition per task, UTF-16 as
// Windows writes it) of the running machine or of a Windows disk under --root, read as files.
import type { Host } from "../../host/mod.ts";
import { listOrNull, readOrNull } from "./files.ts";
import { type SourceContext, type TaskItem, taskKey, type TaskRead, type TaskSource } from "./types.ts";
import { child, childText, parseXml, type XmlElement } from "./xml.ts";

/** A task definition's text: UTF-16 (with or without its byte order mark, as Windows writes it) or UTF-8. */
export function decodeTaskFile(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return new TextDecoder().decode(bytes.subarray(3));
  }
  if (bytes.length >= 2 && bytes[0] !== 0 && bytes[1] === 0) return new TextDecoder("utf-16le").decode(bytes);
  return new TextDecoder().decode(bytes);
}

/** What the scheduler does with a task, from its definition (Task Scheduler schema 1.2+). */
export interface TaskDefinition {
  author: string | null;
  description: string | null;
  /** Settings/Enabled (true when absent). */
  enabled: boolean;
  /** Settings/Hidden (false when absent). */
  hidden: boolean;
  /** The principal the actions run as: its UserId, else its GroupId. */
  runAs: string | null;
  /** LeastPrivilege or HighestAvailable. */
  runLevel: string | null;
  /** Each trigger: its kind and settings (`Calendar StartBoundary=…, ScheduleByDay.DaysInterval=1`). */
  triggers: string[];
  /** Each action: the program and its arguments, or the COM handler. */
  actions: string[];
}

/** The leaf settings under `el` as `path=value`, paths from `el` down (`Repetition.Interval=PT5M`). */
function leaves(el: XmlElement, prefix = ""): string[] {
  return el.children.flatMap((c) => {
    const path = prefix + c.name;
    return c.children.length ? leaves(c, `${path}.`) : [`${path}=${c.text.trim()}`];
  });
}

function action(a: XmlElement): string {
  switch (a.name) {
    case "Exec": {
      const args = childText(a, "Arguments");
      return `${childText(a, "Command") ?? ""}${args ? ` ${args}` : ""}`;
    }
    case "ComHandler": {
      const data = childText(a, "Data");
      return `COM handler ${childText(a, "ClassId") ?? ""}${data ? ` (data: ${data})` : ""}`;
    }
    case "SendEmail":
      return `send e-mail to ${childText(a, "To") ?? ""}`;
    case "ShowMessage":
      return `show message ${JSON.stringify(childText(a, "Title") ?? "")}`;
    default:
      return a.name;
  }
}

/** Reads a task definition's XML. Throws a TypeError when it is not one. */
export function parseTaskXml(xml: string): TaskDefinition {
  const task = parseXml(xml);
  if (task.name !== "Task") throw new TypeError(`Cannot read a task definition: its root is <${task.name}>`);
  const info = child(task, "RegistrationInfo");
  const settings = child(task, "Settings");
  const actions = child(task, "Actions");
  const principals = child(task, "Principals")?.children ?? [];
  const context = actions?.attrs.Context;
  const principal = principals.find((p) => context !== undefined && p.attrs.id === context) ?? principals[0];
  return {
    author: childText(info, "Author"),
    description: childText(info, "Description"),
    enabled: childText(settings, "Enabled") !== "false",
    hidden: childText(settings, "Hidden") === "true",
    runAs: childText(principal, "UserId") || childText(principal, "GroupId") || null,
    runLevel: childText(principal, "RunLevel"),
    triggers: (child(task, "Triggers")?.children ?? []).map((t) => {
      const settings = leaves(t);
      return `${t.name.replace(/Trigger$/, "")}${settings.length ? ` ${settings.join(", ")}` : ""}`;
    }),
    actions: (actions?.children ?? []).map(action),
  };
}

/** The task store's directory on the machine read, or null when it has none. */
function tasksDir(host: Host): { dir: string; sep: string } | null {
  if (host.root === "/") {
    // The running Windows: where it says it lives.
    const systemRoot = host.env("SystemRoot") ?? host.env("windir") ?? "C:\\Windows";
    return { dir: `${systemRoot}\\System32\\Tasks`, sep: "\\" };
  }
  // A Windows disk under --root: each segment matched regardless of case, as NTFS would.
  let dir = "";
  for (const part of ["Windows", "System32", "Tasks"]) {
    const hit = (listOrNull(host, dir || "/") ?? []).find((e) => e.name.toLowerCase() === part.toLowerCase());
    if (!hit) return null;
    dir = `${dir}/${hit.name}`;
  }
  return { dir, sep: "/" };
}

/** One task's item from its definition file's bytes (the item carries the error when it cannot be read). */
export function taskItem(name: string, source: string, bytes: Uint8Array): TaskItem {
  const item: TaskItem = {
    Task: name,
    Kind: "task",
    Source: source,
    Line: null,
    Schedule: null,
    User: null,
    Command: null,
    Enabled: false,
    Reason: null,
  };
  try {
    const t = parseTaskXml(decodeTaskFile(bytes));
    return {
      ...item,
      Schedule: t.triggers.join("; ") || null,
      User: t.runAs,
      Command: t.actions.join("; ") || null,
      Author: t.author,
      Description: t.description,
      RunLevel: t.runLevel,
      Hidden: t.hidden,
      Enabled: t.enabled,
      Reason: t.enabled ? null : "it is disabled in its settings",
    };
  } catch (e) {
    return { ...item, error: `${source}: ${(e as Error).message}` };
  }
}

export const taskScheduler: TaskSource = {
  kind: "task",
  platforms: ["windows"],
  // Tasks live in folders of any depth; 16 levels is more than Task Scheduler's own tools make.
  watches: (host) => {
    const store = tasksDir(host);
    return store ? [{ path: store.dir, depth: 16 }] : [];
  },
  async read({ host, signal }: SourceContext): Promise<TaskRead> {
    const out: TaskRead = { items: [], unseen: [], warnings: [] };
    let store;
    try {
      store = tasksDir(host);
    } catch (e) {
      out.unseen.push(taskKey({ Kind: "task", Task: "" }));
      out.warnings.push((e as Error).message);
      return out;
    }
    if (!store) return out;
    const walk = async (dir: string, taskPath: string) => {
      let entries;
      try {
        entries = listOrNull(host, dir) ?? [];
      } catch (e) {
        out.unseen.push(taskKey({ Kind: "task", Task: `${taskPath}\\` }));
        out.warnings.push((e as Error).message);
        return;
      }
      for (const e of entries) {
        signal.throwIfAborted();
        const path = `${dir}${store.sep}${e.name}`;
        const name = `${taskPath}\\${e.name}`;
        if (e.isDirectory) await walk(path, name);
        else if (e.isFile) {
          let bytes: Uint8Array | null;
          try {
            bytes = await readOrNull(host, path);
          } catch (err) {
            out.items.push({ ...taskItem(name, path, new Uint8Array()), error: (err as Error).message });
            continue;
          }
          if (bytes) out.items.push(taskItem(name, path, bytes));
        }
      }
    };
    await walk(store.dir, "");
    return out;
  },
};
