// Shared page state: the agent's status, what the server says as it happens (one event stream: runs stored,
// acknowledgements, the collectors' live state), scan-in-progress, toasts.
import { signal } from "@preact/signals";
import { get, post, type Status } from "./api.ts";
import { serverZone } from "./time.ts";

export const status = signal<Status | null>(null);
export const statusError = signal<string | null>(null);
/** Bumped when stored data changed (a run, an acknowledgement): views showing it re-fetch. */
export const tick = signal(0);
/** Changes stored by runs since the page last showed them, per collector (for "N new changes"). */
export const fresh = signal<Record<string, number>>({});
export const scanning = signal<string | null>(null);
export const toast = signal<string | null>(null);
/** The OS of the machine shown: its paths' form. */
export const platform = signal<"linux" | "windows">("linux");

export async function refreshStatus(): Promise<void> {
  try {
    const s = await get<Status>("status");
    status.value = s;
    serverZone.value = s.timeZone;
    platform.value = s.platform;
    statusError.value = null;
  } catch (e) {
    statusError.value = (e as Error).message;
  }
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;
export function say(text: string): void {
  toast.value = text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => toast.value = null, 6000);
}

export async function scanNow(collector?: string): Promise<void> {
  if (scanning.value) return;
  scanning.value = collector ?? "all";
  try {
    const r = await post<
      { done: boolean; error?: string; failed?: { collector: string; error: string | null }[] }
    >(
      "scan",
      collector ? { collector } : {},
    );
    const failed = r.failed ?? [];
    say(
      r.error
        ? `Scan failed: ${r.error}`
        : failed.length
        ? `Scan failed: ${failed.map((f) => `${f.collector}: ${f.error ?? "failed"}`).join("; ")}`
        : r.done
        ? "Scan finished"
        : "Scan started",
    );
  } catch (e) {
    say(`Scan failed: ${(e as Error).message}`);
  } finally {
    scanning.value = null;
    await refreshStatus();
  }
}

/**
 * Listens to the server's events: a stored run refreshes the status and the views (theirs decide whether to
 * re-fetch at once or offer "N new changes"); the collectors' live state refreshes the status alone. The
 * browser reconnects by itself; after a reconnect everything is fetched again (events may have been missed).
 * The status is read at the first hello too: the server says hello once all stored before it can be read, and a
 * run stored while the stream was opening comes as no event.
 */
export function listen(): void {
  const es = new EventSource("/api/events");
  let opened = false;
  es.addEventListener("hello", () => {
    void refreshStatus();
    if (opened) tick.value++;
    opened = true;
  });
  es.addEventListener("run", (e) => {
    const run = JSON.parse((e as MessageEvent).data) as { collector: string; counts: Record<string, number> };
    const n = (run.counts.added ?? 0) + (run.counts.removed ?? 0) + (run.counts.modified ?? 0);
    if (n) fresh.value = { ...fresh.value, [run.collector]: (fresh.value[run.collector] ?? 0) + n };
    void refreshStatus();
    tick.value++;
  });
  es.addEventListener("acks", () => tick.value++);
  es.addEventListener("status", () => void refreshStatus());
  // A session that ended makes the stream fail: the status request then sends the page to sign-in.
  es.onerror = () => void refreshStatus();
}
