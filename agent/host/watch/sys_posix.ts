// Linux system calls of the realtime watchers through FFI: fanotify, inotify, poll, eventfd, pidfd.
import { errnoName, failure } from "../files/libc_posix.ts";

const SYMBOLS = {
  fanotify_init: { parameters: ["u32", "u32"], result: "i32" },
  fanotify_mark: { parameters: ["i32", "u32", "u64", "i32", "buffer"], result: "i32" },
  inotify_init1: { parameters: ["i32"], result: "i32" },
  inotify_add_watch: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  inotify_rm_watch: { parameters: ["i32", "i32"], result: "i32" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  open_by_handle_at: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  fstatfs: { parameters: ["i32", "buffer"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  pidfd_send_signal: { parameters: ["i32", "i32", "pointer", "u32"], result: "i32" },
  // Waits on its own thread, so the event loop runs on while nothing happens.
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let lib: Lib | undefined;

/** libc's watcher calls (Linux only). */
export function sys(): Lib {
  if (!lib) {
    if (Deno.build.os !== "linux") throw new Error(`realtime FFI: unsupported OS ${Deno.build.os}`);
    lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  }
  return lib;
}

/**
 * The calling thread's errno (the JS thread's: every call but poll is made on it). What the runtime did on this
 * thread since the call may have left its own there: where the errno decides something, a failure is tried again
 * (libc_posix.ts failure()).
 */
export function errno(): number {
  return new Deno.UnsafePointerView(sys().__errno_location()!).getInt32();
}

/** An error naming the call and its errno (`code` is the errno name). */
export function sysError(call: string, e = errno()): Error & { code: string } {
  return Object.assign(new Error(`${call}: ${errnoName(e)}`), { code: errnoName(e) });
}

const encoder = new TextEncoder();
/** A NUL-terminated path. */
export function cpath(path: string): Uint8Array<ArrayBuffer> {
  const b = encoder.encode(path);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

export const O_RDONLY = 0;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
export const O_NONBLOCK = 0o4000;
export const O_PATH = 0o10000000;
export const EAGAIN = 11;
export const EINTR = 4;
/** Nothing to read now, or a signal came first: a non-blocking read's everyday answers. */
const READ_USUAL = [EAGAIN, EINTR];
export const ESRCH = 3;

/** Masks fanotify and inotify share (the bits are the same in both). */
export const IN = {
  MODIFY: 0x2,
  ATTRIB: 0x4,
  CLOSE_WRITE: 0x8,
  MOVED_FROM: 0x40,
  MOVED_TO: 0x80,
  CREATE: 0x100,
  DELETE: 0x200,
  DELETE_SELF: 0x400,
  MOVE_SELF: 0x800,
  UNMOUNT: 0x2000,
  Q_OVERFLOW: 0x4000,
  IGNORED: 0x8000,
  ONLYDIR: 0x01000000,
  DONT_FOLLOW: 0x02000000,
  EXCL_UNLINK: 0x04000000,
  ISDIR: 0x40000000,
} as const;

/** What a watched directory reports: its entries written, their metadata, entries made, gone, moved; itself gone. */
export const WATCH_MASK = IN.MODIFY | IN.ATTRIB | IN.CLOSE_WRITE | IN.MOVED_FROM | IN.MOVED_TO | IN.CREATE |
  IN.DELETE | IN.DELETE_SELF | IN.MOVE_SELF;

/**
 * An eventfd that wakes a poll() waiting on another thread (closing a descriptor does not), so a watcher
 * stops at once.
 */
export function wakeFd(): { fd: number; wake(): void; close(): void } {
  const fd = sys().eventfd(0, O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw sysError("eventfd");
  const one = new Uint8Array(8);
  one[0] = 1;
  return {
    fd,
    wake: () => void sys().write(fd, one, 8n),
    close: () => void sys().close(fd),
  };
}

/** POLLIN, POLLPRI, POLLERR: readable, an exceptional condition (mount table changed), an error. */
export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLERR = 0x8;

/**
 * A set of descriptors polled on another thread. `wait()` resolves with the revents of each descriptor (in
 * the order given), or null when it was woken to stop.
 */
export function pollSet(fds: { fd: number; events: number }[]) {
  const wake = wakeFd();
  const all = [...fds, { fd: wake.fd, events: POLLIN }];
  const buf = new Uint8Array(8 * all.length);
  const view = new DataView(buf.buffer);
  let stopped = false;
  return {
    async wait(): Promise<number[] | null> {
      for (;;) {
        if (stopped) return null;
        all.forEach((f, i) => {
          view.setInt32(i * 8, f.fd, true);
          view.setInt16(i * 8 + 4, f.events, true);
          view.setInt16(i * 8 + 6, 0, true);
        });
        const n = await sys().poll(buf, BigInt(all.length), -1);
        if (stopped) return null;
        if (n < 0) continue; // EINTR: a signal came to that thread
        return fds.map((_, i) => view.getInt16(i * 8 + 6, true));
      }
    },
    /** Wakes the waiting poll and makes every later wait() return null. */
    stop(): void {
      stopped = true;
      wake.wake();
    },
    /** Closes the wake descriptor (after the last wait() returned). */
    close(): void {
      wake.close();
    },
  };
}

/** Reads what a non-blocking descriptor has into `buf`: the byte count, 0 when nothing is there. Throws otherwise. */
export function readSome(fd: number, buf: Uint8Array<ArrayBuffer>, call: string): number {
  for (let attempt = 1;; attempt++) {
    const n = Number(sys().read(fd, buf, BigInt(buf.length)));
    if (n >= 0) return n;
    const e = failure(attempt, READ_USUAL);
    if (e === EAGAIN || e === EINTR) return 0;
    if (e !== undefined) throw sysError(call, e);
  }
}
