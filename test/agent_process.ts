// The agent as a user runs it, in a process of its own: started, its page's sign-in address read from its log.
import { V8_FLAGS_ARG } from "../build/v8_flags.ts";
import { ensureUiAssets } from "../build/bundle_ui.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

export interface AgentProcess {
  /** The address that signs a browser in (from the "local page ready" line). */
  signIn: string;
  /** The page's origin (http://127.0.0.1:PORT). */
  base: string;
  /** What it logged so far. */
  log(): string;
  /** SIGTERM, then waits for it to end. */
  stop(): Promise<void>;
}

/** Starts `ctagent ARGS` (the daemon, with ctagent's V8 flags) and waits for its page, at most `timeoutMs`. */
export async function startAgentProcess(args: string[], timeoutMs = 120_000): Promise<AgentProcess> {
  // A fresh clone has no built page yet: the agent would serve the "not built" page (no token meta tag).
  await ensureUiAssets();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", V8_FLAGS_ARG, MAIN, ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    for (let r; !(r = await reader.read()).done;) log += r.value;
  })();
  const deadline = Date.now() + timeoutMs;
  let signIn: string | undefined;
  while (!signIn && Date.now() < deadline) {
    signIn = /local page ready.* url=(\S+)/.exec(log)?.[1];
    if (!signIn) await new Promise((r) => setTimeout(r, 20));
  }
  if (!signIn) {
    child.kill("SIGTERM");
    await child.status;
    await pump;
    throw new Error(`the page never came up:\n${log}`);
  }
  return {
    signIn,
    base: new URL(signIn).origin,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await pump;
    },
  };
}
