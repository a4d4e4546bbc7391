// Unix stream sockets (paths and Linux abstract names) as node streams, on Deno's own sockets, not node:net's.
import { Duplex } from "node:stream";

/*
 * Why not node:net: Deno 2.9's node:net closes the descriptor of every unix socket it closes twice, one close
 * right after the other (`close(23) = 0`, `close(23) = -1 EBADF` under strace, client, accepted and listening
 * sockets alike). Between the two, another thread of the process may open a descriptor and be given that
 * number: the second close then closes that thread's file. In the agent that is any thread opening a file
 * meanwhile (Deno runs its async file operations on a pool of threads); in `deno task test`, where every test
 * module is a thread of one process, it was a file another module had opened to hash (its hash worker's fstat
 * then failed with EBADF). Deno's own unix sockets close theirs once.
 */

/** What a stream is destroyed with: Deno's errors carry node's `code` (ECONNRESET, EPIPE …) already. */
function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * A connected unix socket as a node Duplex that behaves as a net.Socket does: writes complete once handed to
 * the OS, `end()` half-closes, the peer's end ends it (no half-open), `destroy()` closes the descriptor (once).
 */
export function unixDuplex(conn: Deno.Conn): Duplex {
  let closed = false;
  let reading = false;
  const buf = new Uint8Array(64 * 1024);
  const closeOnce = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // already closed by Deno (the peer reset it): nothing left to release
    }
  };
  const d: Duplex = new Duplex({
    allowHalfOpen: false,
    read() {
      if (reading || closed) return;
      reading = true;
      conn.read(buf).then(
        (n) => {
          reading = false;
          if (closed) return;
          d.push(n === null ? null : buf.slice(0, n));
        },
        (e) => {
          reading = false;
          if (!closed) d.destroy(asError(e));
        },
      );
    },
    write(chunk: Uint8Array, _encoding, done) {
      (async () => {
        for (let at = 0; at < chunk.byteLength;) at += await conn.write(chunk.subarray(at));
      })().then(() => done(), (e) => done(asError(e)));
    },
    final(done) {
      (conn as Deno.UnixConn).closeWrite().then(() => done(), (e) => done(asError(e)));
    },
    destroy(e, done) {
      closeOnce();
      done(e);
    },
  });
  return d;
}

/**
 * Connects to a unix socket (`address` a path, or an abstract name starting with a NUL byte). Rejects as
 * node:net does: `connect CODE address`, with `code` set.
 */
export async function connectUnix(address: string): Promise<Duplex> {
  try {
    return unixDuplex(await Deno.connect({ transport: "unix", path: address }));
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string") throw e;
    throw Object.assign(new Error(`connect ${code} ${address}`, { cause: e }), { code });
  }
}

/** Listens on a unix socket; each connection goes to `onConnection` until `close()` (which waits for the loop). */
export function listenUnix(
  address: string,
  onConnection: (socket: Duplex) => void,
): { close(): Promise<void> } {
  const listener = Deno.listen({ transport: "unix", path: address });
  let closing = false;
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (closing) return;
        throw e;
      }
      onConnection(unixDuplex(conn));
    }
  })();
  return {
    async close() {
      if (closing) return;
      closing = true;
      listener.close();
      await loop;
    },
  };
}
