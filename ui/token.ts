// The page's sign-in token: made once, kept 0600 in the data directory, replaced when its file is not private.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { TOKEN_FILE, TOKEN_FORMAT, untrustedTokenFile } from "./sign_in.ts";

export { TOKEN_FILE };

export interface PageToken {
  token: string;
  path: string;
  /** What the file looked like when read (inode, size, times): a change means it was rotated. */
  stamp: string;
}

export class TokenFileError extends Error {
  override name = "TokenFileError";
}

function stampOf(st: { ino: number | bigint; size: number | bigint; mtimeMs: number; ctimeMs: number }) {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/** A new token in a file of its own (0600), then linked (no clobber) or renamed (replace) to `path`. */
function writeNew(path: string, replace: boolean): PageToken | undefined {
  const token = randomBytes(32).toString("hex");
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, token + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (replace) renameSync(tmp, path);
    else {
      try {
        linkSync(tmp, path);
      } catch (e) {
        // Another process made it first: theirs counts.
        if ((e as NodeJS.ErrnoException).code === "EEXIST") return undefined;
        throw e;
      }
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch { /* renamed away */ }
  }
  return { token, path, stamp: stampOf(lstatSync(path)) };
}

/**
 * The page token of `dataDir`: read from its file, made at the first start (0600, written whole before it
 * appears under its name). A file others could read, or that is not this process's, is replaced by a new
 * token (the old one may have been copied) and `warn` says so. Anything but a regular file is refused.
 */
export function loadPageToken(
  dataDir: string,
  warn: (msg: string, fields: Record<string, unknown>) => void = () => {},
): PageToken {
  const path = join(dataDir, TOKEN_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    let st;
    try {
      st = lstatSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new TokenFileError(`Cannot read the page token ${path}: ${(e as Error).message}`);
      }
      const made = writeNew(path, false);
      if (made) return made;
      continue;
    }
    if (!st.isFile()) {
      throw new TokenFileError(
        `Cannot use the page token ${path}: not a regular file (a link or a directory); remove it and start again`,
      );
    }
    const why = untrustedTokenFile(st, path);
    if (why) {
      warn("page token file was not private: replaced with a new token (the old one no longer signs in)", {
        problem: why,
        file: path,
      });
      return writeNew(path, true)!;
    }
    let text: string;
    try {
      text = readFileSync(path, "utf8").trim();
    } catch (e) {
      throw new TokenFileError(`Cannot read the page token ${path}: ${(e as Error).message}`);
    }
    if (!TOKEN_FORMAT.test(text)) {
      warn("page token file did not hold a token: replaced with a new one", { file: path });
      return writeNew(path, true)!;
    }
    return { token: text, path, stamp: stampOf(st) };
  }
  throw new TokenFileError(`Cannot create the page token ${path}: it kept appearing and vanishing`);
}

/** A new token for `dataDir`: every session signed with the old one ends. */
export function rotatePageToken(dataDir: string): PageToken {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return writeNew(join(dataDir, TOKEN_FILE), true)!;
}

/**
 * The token in force, following the file: it is looked at again at most once every `checkMs`, and read again
 * when it changed (`ctagent page-url --rotate`, or removed and made anew). A file that vanished keeps the
 * token last read.
 */
export function pageTokenSource(
  dataDir: string,
  warn?: (msg: string, fields: Record<string, unknown>) => void,
  checkMs = 1000,
): { current(): string; first: PageToken } {
  const first = loadPageToken(dataDir, warn);
  let now = first;
  let checkedAt = performance.now();
  return {
    first,
    current() {
      const t = performance.now();
      if (t - checkedAt < checkMs) return now.token;
      checkedAt = t;
      try {
        if (stampOf(lstatSync(now.path)) === now.stamp) return now.token;
        now = loadPageToken(dataDir, warn);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
          warn?.("cannot re-read the page token", { error: e });
        }
      }
      return now.token;
    },
  };
}
