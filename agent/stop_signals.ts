// The signals that stop ctagent (SIGTERM, SIGINT; Ctrl-C and Ctrl-Break on Windows) as one AbortSignal.
import { EXIT } from "./exit_codes.ts";
import type { Logger } from "./log.ts";

/** What stops the process on this OS (Deno listens to SIGINT and SIGBREAK only, on Windows). */
export const STOP_SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGTERM", "SIGINT"];

export interface StopSignals {
  /** Aborts at the first stop signal; its reason names the signal. */
  signal: AbortSignal;
  /** Stops listening (the process's default action returns). */
  dispose(): void;
}

/**
 * Listens for the stop signals. The first aborts `signal`, so that the run in flight ends as aborted and the
 * process winds down; a second one means "now": the process exits at once with EXIT.ABORTED (SQLite rolls back
 * whatever transaction was open, so nothing is half-written even then).
 */
export function listenForStop(log: Logger, exit: (code: number) => void = Deno.exit): StopSignals {
  const ac = new AbortController();
  const handlers = STOP_SIGNALS.map((name) => {
    const handler = () => {
      if (!ac.signal.aborted) {
        log.info(`stopping (${name})`);
        ac.abort(new DOMException(`stopped by ${name}`, "AbortError"));
        return;
      }
      log.warn(`stopping now (${name} again)`);
      exit(EXIT.ABORTED);
    };
    Deno.addSignalListener(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: ac.signal,
    dispose() {
      for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
    },
  };
}
