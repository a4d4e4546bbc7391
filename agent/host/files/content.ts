// Content capture for diffs: which file contents count as text, and the captured-content record.

/** Captured text of one file version, stored once per checksum in the `contents` table. */
export interface CapturedContent {
  checksum: string;
  text: string;
  size: number;
}

const strict = new TextDecoder("utf-8", { fatal: true });

/**
 * The content as text, or null when it is binary: it holds a NUL byte or is not valid UTF-8
 * (the test git and diff use, plus UTF-8 validity so the stored text is exactly the file).
 */
export function textOf(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}
