// FluentServer (npm:@fluent-org/logger) on a unix socket, in a process of its own, for the tests of real peers.
import type {} from "node:events"; // node's types, where FluentServer's EventEmitter methods are declared
import { EventTime, FluentServer } from "@fluent-org/logger";

/*
 * Why a process of its own: FluentServer listens through node:net, whose unix sockets Deno 2.9 closes twice
 * (agent/ama/unix_socket.ts). In `deno task test` every test module is a thread of one process, and the second
 * close could take a file another module just opened.
 */

/** One entry as FluentServer gave it: `time` is `{ epoch, nano }` when it came as an EventTime (ext type 0). */
export interface FluentEntry {
  tag: string;
  time: number | { epoch: number; nano: number };
  record: Record<string, string>;
}

/**
 * Starts FluentServer at `path` (a filesystem or abstract unix socket) in a child process. `close()` stops it
 * and resolves with every entry it received, in order (the same entries when called again).
 */
export async function startFluentServerChild(path: string): Promise<{ close(): Promise<FluentEntry[]> }> {
  const child = new Deno.Command(Deno.execPath(), {
    // An argument cannot hold a NUL byte: an abstract name goes as "@name".
    args: ["run", "-A", "--no-check", new URL(import.meta.url).href, path.replace(/^\0/, "@")],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines()).getReader();
  const first = await lines.read();
  if (first.value !== "ready") {
    child.kill();
    await child.status;
    throw new Error(`FluentServer at ${JSON.stringify(path)} did not start: ${JSON.stringify(first.value)}`);
  }
  // Read as they come: a full pipe would stop the child (and its acks) until close.
  const entries: FluentEntry[] = [];
  const reading = (async () => {
    for (let r = await lines.read(); !r.done; r = await lines.read()) entries.push(JSON.parse(r.value));
  })();
  let closing: Promise<FluentEntry[]> | undefined;
  return {
    close: () =>
      closing ??= (async () => {
        child.kill("SIGTERM");
        await reading;
        await child.status;
        return entries;
      })(),
  };
}

function splitLines(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(text, out) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      for (const p of parts) if (p) out.enqueue(p);
    },
    flush(out) {
      if (rest) out.enqueue(rest);
    },
  });
}

if (import.meta.main) {
  const server = new FluentServer({ listenOptions: { path: Deno.args[0].replace(/^@/, "\0") } });
  server.on("entry", (tag: string, time: EventTime | number, record: Record<string, string>) => {
    const t = time instanceof EventTime ? { epoch: time.epoch, nano: time.nano } : time;
    console.log(JSON.stringify({ tag, time: t, record }));
  });
  await server.listen();
  console.log("ready");
  Deno.addSignalListener("SIGTERM", () => {
    server.close().finally(() => Deno.exit(0));
  });
}
