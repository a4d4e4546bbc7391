// The registry's change notification (Windows): RegNotifyChangeKeyValue on each watched key, signalling an
// event that one wait on another thread watches; a notification is re-armed as soon as it fired.
import type { KeyRequest, RegistryWatcher, RegistryWatcherOptions } from "./types.ts";
import { ROOTS, wide } from "../registry/live_windows.ts";
import { splitKeyPath } from "../registry/reader.ts";

const ADVAPI = {
  RegOpenKeyExW: { parameters: ["pointer", "buffer", "u32", "u32", "buffer"], result: "i32" },
  RegCloseKey: { parameters: ["pointer"], result: "i32" },
  RegNotifyChangeKeyValue: { parameters: ["pointer", "i32", "u32", "pointer", "i32"], result: "i32" },
} as const;
const KERNEL32 = {
  CreateEventW: { parameters: ["pointer", "i32", "i32", "pointer"], result: "pointer" },
  SetEvent: { parameters: ["pointer"], result: "i32" },
  CloseHandle: { parameters: ["pointer"], result: "i32" },
  WaitForMultipleObjects: { parameters: ["u32", "buffer", "i32", "u32"], result: "u32", nonblocking: true },
} as const;

let advapi: Deno.DynamicLibrary<typeof ADVAPI>["symbols"] | undefined;
let kernel32: Deno.DynamicLibrary<typeof KERNEL32>["symbols"] | undefined;

const KEY_NOTIFY = 0x0010;
const KEY_WOW64_64KEY = 0x0100;
const REG_NOTIFY_CHANGE_NAME = 0x1;
const REG_NOTIFY_CHANGE_LAST_SET = 0x4;
const REG_NOTIFY_THREAD_AGNOSTIC = 0x10000000;
const INFINITE = 0xffffffff;
/** WaitForMultipleObjects takes at most 64 handles; one is the stop event. */
export const MAX_KEYS = 63;

interface Armed {
  key: string;
  subtree: boolean;
  hkey: Deno.PointerValue;
  event: Deno.PointerValue;
}

/** Watches registry keys of the running Windows machine. */
export function registryWatcher(opts: RegistryWatcherOptions): RegistryWatcher {
  advapi ??= Deno.dlopen("advapi32.dll", ADVAPI).symbols;
  kernel32 ??= Deno.dlopen("kernel32.dll", KERNEL32).symbols;
  const a = advapi, k = kernel32;
  /** The keys of the current set and the event that ends its wait. */
  let current: { armed: Armed[]; stop: Deno.PointerValue } | undefined;
  let loop: Promise<void> = Promise.resolve();
  let events = 0;
  let agnostic = REG_NOTIFY_THREAD_AGNOSTIC;

  /** Asks for the next change under `w` (a notification fires once). An error code, or 0. */
  const notify = (w: Armed): number => {
    const filter = REG_NOTIFY_CHANGE_NAME | REG_NOTIFY_CHANGE_LAST_SET;
    let rc = a.RegNotifyChangeKeyValue(w.hkey, w.subtree ? 1 : 0, filter | agnostic, w.event, 1);
    if (rc !== 0 && agnostic) {
      // Before Windows 8 (and under some Wine versions) the flag is refused: the main thread asks, and lives.
      agnostic = 0;
      rc = a.RegNotifyChangeKeyValue(w.hkey, w.subtree ? 1 : 0, filter, w.event, 1);
    }
    return rc;
  };

  const release = (set: { armed: Armed[]; stop: Deno.PointerValue }) => {
    for (const w of set.armed) {
      a.RegCloseKey(w.hkey);
      k.CloseHandle(w.event);
    }
    k.CloseHandle(set.stop);
  };

  /** Waits for the keys of `set` until its stop event; its handles are closed only once no wait holds them. */
  const run = async (set: { armed: Armed[]; stop: Deno.PointerValue }) => {
    const handles = new BigUint64Array(
      [...set.armed.map((w) => w.event), set.stop].map((h) => BigInt(Deno.UnsafePointer.value(h))),
    );
    const bytes = new Uint8Array(handles.buffer);
    for (;;) {
      const i = await k.WaitForMultipleObjects(handles.length, bytes, 0, INFINITE);
      if (i >= set.armed.length) break; // the stop event, or a failed wait
      events++;
      const w = set.armed[i];
      const rc = notify(w);
      if (rc !== 0) {
        opts.onNotice({ kind: "lost", path: w.key, why: `RegNotifyChangeKeyValue: Win32 error ${rc}` });
      }
      opts.onChange([w.key]);
    }
    release(set);
  };

  /** Ends the current set's wait (its handles are closed by its loop). */
  const retire = () => {
    if (current) k.SetEvent(current.stop);
    current = undefined;
  };

  return {
    watch(keys) {
      retire();
      const failed: { key: string; why: string }[] = [];
      const armed: Armed[] = [];
      for (const r of keys as KeyRequest[]) {
        if (armed.length >= MAX_KEYS) {
          failed.push({ key: r.key, why: `more than ${MAX_KEYS} keys to watch` });
          continue;
        }
        let hive, subPath;
        try {
          ({ hive, subPath } = splitKeyPath(r.key));
        } catch (e) {
          failed.push({ key: r.key, why: (e as Error).message });
          continue;
        }
        const out = new BigUint64Array(1);
        const rc = a.RegOpenKeyExW(
          Deno.UnsafePointer.create(ROOTS[hive]),
          wide(subPath),
          0,
          KEY_NOTIFY | KEY_WOW64_64KEY,
          new Uint8Array(out.buffer),
        );
        if (rc !== 0) {
          failed.push({ key: r.key, why: rc === 2 ? "no such key" : `RegOpenKeyEx: Win32 error ${rc}` });
          continue;
        }
        const w: Armed = {
          key: r.key,
          subtree: r.subtree,
          hkey: Deno.UnsafePointer.create(out[0]),
          event: k.CreateEventW(null, 0, 0, null),
        };
        const nrc = notify(w);
        if (nrc !== 0) {
          a.RegCloseKey(w.hkey);
          k.CloseHandle(w.event);
          failed.push({ key: r.key, why: `RegNotifyChangeKeyValue: Win32 error ${nrc}` });
          continue;
        }
        armed.push(w);
      }
      const set = { armed, stop: k.CreateEventW(null, 0, 0, null) };
      current = set;
      loop = loop.then(() => run(set));
      return { failed };
    },
    stats: () => ({ watches: current?.armed.length ?? 0, events }),
    async close() {
      retire();
      await loop;
    },
  };
}
