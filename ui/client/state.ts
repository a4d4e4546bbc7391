// Shared page state: agent status (polled), scan-in-progress, a refresh tick views re-fetch on.
import { signal } from "@preact/signals";
import { get, post, type Status } from "./api.ts";

export const status = signal<Status | null>(null);
export const statusError = signal<string | null>(null);
/** Bumped after a scan finishes: views re-fetch when it changes. */
export const tick = signal(0);
export const scanning = signal<string | null>(null);
export const toast = signal<string | null>(null);

export async function refreshStatus(): Promise<void> {
  try {
    status.value = await get<Status>("status");
    statusError.value = null;
  } catch (e) {
    statusError.value = (e as Error).message;
  }
}

export async function scanNow(collector?: string): Promise<void> {
  if (scanning.value) return;
  scanning.value = collector ?? "all";
  try {
    const r = await post<{ done: boolean; error?: string }>("scan", collector ? { collector } : {});
    toast.value = r.error ? `Scan failed: ${r.error}` : r.done ? "Scan finished" : "Scan started";
  } catch (e) {
    toast.value = `Scan failed: ${(e as Error).message}`;
  } finally {
    scanning.value = null;
    await refreshStatus();
    tick.value++;
    setTimeout(() => toast.value = null, 4000);
  }
}
