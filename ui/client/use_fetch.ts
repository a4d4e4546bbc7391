// A hook that loads JSON for the current parameters, cancels stale loads, and reloads on the refresh tick.
import { useEffect, useState } from "preact/hooks";
import { get } from "./api.ts";
import { tick } from "./state.ts";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

export function useFetch<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ data: null, error: null, loading: true });
  const t = tick.value;
  useEffect(() => {
    if (!path) return;
    const ac = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    get<T>(path, ac.signal).then(
      (data) => setState({ data, error: null, loading: false }),
      (e) => {
        if (!ac.signal.aborted) setState({ data: null, error: (e as Error).message, loading: false });
      },
    );
    return () => ac.abort();
  }, [path, t]);
  return state;
}
