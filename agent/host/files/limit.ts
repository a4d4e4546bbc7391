// The per-file hashing limit (fileSettings.maxHashBytes): what a file over it reports.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/** A byte count for people, to 3 significant digits or more: 1000 B, 1.95 KiB, 15 TiB. */
export function bytesText(n: number): string {
  let v = n, i = 0;
  while (v >= 1024 && i < UNITS.length - 1) v /= 1024, i++;
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${Math.round(v * 10 ** digits) / 10 ** digits} ${UNITS[i]}`;
}

/** The error of a file not hashed because of the limit (its item keeps size and times). */
export function notHashed(size: number, limit: number): string {
  return `not hashed: ${bytesText(size)} > limit of ${bytesText(limit)} (fileSettings.maxHashBytes)`;
}
