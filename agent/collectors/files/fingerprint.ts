// Fingerprints of file versions: short hashes that are equal next time only when the item would be the same.
import { base36At, HALVES, hash64, hash64Codes, hash64Halves } from "../../hash64.ts";
import type { Stat } from "../../host/files/libc_posix.ts";

/** The text statKey hashes, written as char codes (it is ASCII): no string per number, per file of a scan. */
const keyText = new Uint8Array(256);

/** Writes `s` (ASCII) into keyText at `at`; returns where it ends. */
function putText(at: number, s: string): number {
  for (let i = 0; i < s.length; i++) keyText[at++] = s.charCodeAt(i);
  return at;
}

/** Writes String(n) into keyText at `at`; returns where it ends. */
function putNumber(at: number, n: number): number {
  // Beyond 2^53 String() writes the shortest digits that round-trip, not the integer's own: let it.
  if (!Number.isSafeInteger(n)) return putText(at, String(n));
  if (n < 0) keyText[at++] = 45, n = -n;
  if (n < 2 ** 31) return putInt(at, n | 0);
  // Sizes from 2 GiB, seconds since 1970 from 2038: the digits above 10^9, then nine more. (Below, digits by int32
  // arithmetic: by % 10 and Math.floor of a double, as before, a number took 3.5 times as long; they were 5 % of
  // the agent's thread in a /usr rescan, where every file's stat key is compared.)
  const high = Math.floor(n / 1e9), low = (n - high * 1e9) | 0;
  at = putNumber(at, high);
  for (let d = 1e8; d >= 1; d = (d / 10) | 0) keyText[at++] = 48 + ((low / d) | 0) % 10;
  return at;
}

/** Writes the digits of `n` (an int32, 0 or more) into keyText at `at`; returns where they end. */
function putInt(at: number, n: number): number {
  let end = at +
    (n < 1e5
      ? (n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : n < 1e4 ? 4 : 5)
      : (n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10));
  const after = end;
  do {
    keyText[--end] = 48 + n % 10;
    n = (n / 10) | 0;
  } while (n > 0);
  return after;
}

/**
 * A short fingerprint of (dev, inode, size, mtime, ctime), nanoseconds included: equal next time means the
 * content was not touched, so the checksum is reused. 64 bits of FNV-1a (hash64) of
 * `dev:ino:size:mtimeSec.mtimeNsec:ctimeSec.ctimeNsec`, compared only for the same path.
 */
export function statKey(s: Stat): string {
  return hash64Codes(keyText, keyCodes(s));
}

/** Writes the text statKey hashes into keyText; returns its length. */
function keyCodes(s: Stat): number {
  let at = putText(0, s.dev);
  keyText[at++] = 58;
  at = putText(at, s.ino);
  keyText[at++] = 58;
  at = putNumber(at, s.size);
  keyText[at++] = 58;
  at = putNumber(at, s.mtimeSec);
  keyText[at++] = 46;
  at = putNumber(at, s.mtimeNsec);
  keyText[at++] = 58;
  at = putNumber(at, s.ctimeSec);
  keyText[at++] = 46;
  at = putNumber(at, s.ctimeNsec);
  return at;
}

/** The length of statKey(s) when `print` begins with it; -1 when it does not (compared where it stands). */
function statKeyIn(print: string, s: Stat): number {
  hash64Halves(keyText, keyCodes(s));
  const dot = base36At(print, 0, HALVES[0]);
  return dot < 0 || print.charCodeAt(dot) !== 46 ? -1 : base36At(print, dot + 1, HALVES[1]);
}

/**
 * The fingerprint of a file item: its stat key (what moves when the content, mode, owner or times move) and
 * everything of the item that the stat key does not cover (names of the owner and group, link target, the
 * rule that matched, whose content may be kept). Equal fingerprints mean the stored item, checksum included,
 * still holds; its ACL too, as writing an ACL moves ctime. The leading 2 is the item shape (2: with Acls), so
 * items stored before are read again once.
 */
export function fileFingerprint(
  statKey: string,
  owner: string | null,
  group: string | null,
  linkTarget: string | null,
  rule: { name: string; groupTag: string },
  /** capture.ts capturePolicyKey: empty in the usual case (fingerprints stored before it stay equal). */
  capture = "",
): string {
  const print = `${statKey}:${tail(owner, group, linkTarget, rule)}`;
  return capture ? `${print}:${capture}` : print;
}

/**
 * Whether `print` is the fingerprint fileFingerprint makes of statKey(stat) and the other arguments, without
 * making either: an unchanged rescan compares one per file and keeps none.
 */
export function isFingerprintOf(
  print: string,
  stat: Stat,
  owner: string | null,
  group: string | null,
  linkTarget: string | null,
  rule: { name: string; groupTag: string },
  capture = "",
): boolean {
  const keyLength = statKeyIn(print, stat);
  return keyLength >= 0 && tailIs(print, keyLength, owner, group, linkTarget, rule, capture);
}

/** Whether what follows the stat key (`keyLength` long) in `print` is what fileFingerprint writes there. */
function tailIs(
  print: string,
  keyLength: number,
  owner: string | null,
  group: string | null,
  linkTarget: string | null,
  rule: { name: string; groupTag: string },
  capture: string,
): boolean {
  const t = tail(owner, group, linkTarget, rule);
  const end = keyLength + 1 + t.length;
  return print.length === (capture ? end + 1 + capture.length : end) &&
    print.charCodeAt(keyLength) === 58 && print.startsWith(t, keyLength + 1) &&
    (!capture || (print.charCodeAt(end) === 58 && print.endsWith(capture)));
}

/** The tails of files without a link target, by rule and owner and group: a tree shares a handful. */
const tails = new WeakMap<
  object,
  { byOwner: Map<string | null, Map<string | null, string>>; size: number }
>();

const makeTail = (
  owner: string | null,
  group: string | null,
  linkTarget: string | null,
  rule: { name: string; groupTag: string },
) => hash64(JSON.stringify([2, owner, group, linkTarget, rule.name, rule.groupTag]));

function tail(
  owner: string | null,
  group: string | null,
  linkTarget: string | null,
  rule: { name: string; groupTag: string },
): string {
  if (linkTarget !== null) return makeTail(owner, group, linkTarget, rule);
  // Looked up by owner, then group: no key made per file.
  let known = tails.get(rule);
  if (!known) tails.set(rule, known = { byOwner: new Map(), size: 0 });
  let byGroup = known.byOwner.get(owner);
  let t = byGroup?.get(group);
  if (t === undefined) {
    if (known.size >= 1024) known.byOwner.clear(), known.size = 0, byGroup = undefined;
    if (!byGroup) known.byOwner.set(owner, byGroup = new Map());
    byGroup.set(group, t = makeTail(owner, group, linkTarget, rule));
    known.size++;
  }
  return t;
}

/**
 * Whether a stored fingerprint is of the file version `statKey` with the capture policy `capture`, whatever the
 * names of its owner and group: for when the names cannot be known. A link's target cannot change without
 * its stat key; a rule renamed meanwhile shows in the first run that knows the names again.
 */
export function sameVersion(print: string, statKey: string, capture = ""): boolean {
  const [key, , cap = ""] = print.split(":");
  return key === statKey && cap === capture;
}
