// One time format for the whole page: `2026-11-03 14:05:09 CET`, in the zone the viewer chose (the browser's,
// the server's or UTC), for epoch times and ISO 8601 texts of item fields alike.
import { signal } from "@preact/signals";

export type ZoneChoice = "browser" | "server" | "utc";

const KEY = "ctagent.zone";
function stored(): ZoneChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === "server" || v === "utc" ? v : "browser";
  } catch {
    return "browser";
  }
}

/** Which zone times are shown in. */
export const zoneChoice = signal<ZoneChoice>(stored());
/** The server's IANA zone (from its status), for the "server" choice. */
export const serverZone = signal<string | null>(null);

export function chooseZone(z: ZoneChoice): void {
  zoneChoice.value = z;
  try {
    localStorage.setItem(KEY, z);
  } catch { /* private mode: for this page only */ }
}

/** The IANA zone in force (undefined: the browser's). */
export function zoneId(choice = zoneChoice.value, server = serverZone.value): string | undefined {
  return choice === "utc" ? "UTC" : choice === "server" ? server ?? undefined : undefined;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(zone: string | undefined): Intl.DateTimeFormat {
  const k = zone ?? "";
  let f = formats.get(k);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    formats.set(k, f);
  }
  return f;
}

/** `YYYY-MM-DD HH:MM:SS ZONE` of `ms` in `zone` (the chosen one by default); `seconds: false` drops them. */
export function formatTime(ms: number, opts: { zone?: string; seconds?: boolean } = {}): string {
  const zone = "zone" in opts ? opts.zone : zoneId();
  const p: Record<string, string> = {};
  for (const part of format(zone).formatToParts(new Date(ms))) p[part.type] = part.value;
  const name = zone === "UTC" ? "UTC" : p.timeZoneName;
  const time = opts.seconds === false ? `${p.hour}:${p.minute}` : `${p.hour}:${p.minute}:${p.second}`;
  return `${p.year}-${p.month}-${p.day} ${time} ${name}`;
}

/** The same moment in UTC and in the chosen zone, for a hover text. */
export function timeTitle(ms: number): string {
  const here = formatTime(ms);
  const utc = formatTime(ms, { zone: "UTC" });
  return here === utc ? here : `${here} · ${utc}`;
}

/** ISO 8601 date-times as item fields hold them (`2026-11-03T13:05:09Z`, with fractions or an offset). */
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** The epoch ms of an ISO date-time text with a zone, or undefined for anything else. */
export function isoTime(v: unknown): number | undefined {
  if (typeof v !== "string" || !ISO.test(v)) return undefined;
  const t = Date.parse(v.replace(" ", "T"));
  return Number.isNaN(t) ? undefined : t;
}

export function relative(ms: number, now = Date.now()): string {
  const s = Math.round((now - ms) / 1000);
  const future = s < 0;
  const a = Math.abs(s);
  let t: string;
  if (a < 5) return "just now";
  if (a < 45) t = `${a} s`;
  else if (a < 2700) t = `${Math.round(a / 60)} min`;
  else if (a < 36 * 3600) t = `${Math.round(a / 3600)} h`;
  else t = `${Math.round(a / 86400)} d`;
  return future ? `in ${t}` : `${t} ago`;
}

/** The offset of `zone` from UTC at `ms`, in ms. */
function offsetAt(ms: number, zone: string | undefined): number {
  const p: Record<string, string> = {};
  for (const part of format(zone).formatToParts(new Date(ms))) p[part.type] = part.value;
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

/** A wall-clock time (`YYYY-MM-DDTHH:MM`, as a datetime-local input gives it) in the chosen zone → epoch ms. */
export function wallToEpoch(wall: string, zone = zoneId()): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(wall);
  if (!m) return NaN;
  const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // Twice: the offset at the guess, then at the corrected time (right across a DST change).
  let t = asUtc - offsetAt(asUtc, zone);
  t = asUtc - offsetAt(t, zone);
  return t;
}

/** Epoch ms → the wall-clock text a datetime-local input shows, in the chosen zone. */
export function epochToWall(ms: number, zone = zoneId()): string {
  return formatTime(ms, { zone, seconds: false }).slice(0, 16).replace(" ", "T");
}
