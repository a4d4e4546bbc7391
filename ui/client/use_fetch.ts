// A hook that loads JSON for the current parameters, cancels stale loads, and reloads when stored data changed
// (the event stream's tick), keeping what it shows until the new data is there (`path` says what it answers).
import { useEffect, useState } from "preact/hooks";
import { get } from "./api.ts";
import { tick } from "./state.ts";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  /** The path `data` (or `error`) answers: another than the one asked while a load for it is under way. */
  path: string | null;
}

/** `version`: reload when it moves instead of at every tick (a list the operator scrolled holds still). */
export function useFetch<T>(path: string | null, version?: number): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ data: null, error: null, loading: true, path: null });
  const t = version ?? tick.value;
  useEffect(() => {
    if (!path) return;
    const ac = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    get<T>(path, ac.signal).then(
      // A load replaced by a newer one is dropped, whatever it got.
      (data) => {
        if (!ac.signal.aborted) setState({ data, error: null, loading: false, path });
      },
      (e) => {
        if (!ac.signal.aborted) setState({ data: null, error: (e as Error).message, loading: false, path });
      },
    );
    return () => ac.abort();
  }, [path, t]);
  return state;
}
