// Fingerprints of file versions: short hashes that are equal next time only when the item would be the same.
import { hash64 } from "../../hash64.ts";

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

/** The tails of files without a link target, by rule and owner and group: a tree shares a handful. */
const tails = new WeakMap<object, Map<string, string>>();

function tail(
  owner: string | null,
  group: string | null,
  linkTarget: string | null,
  rule: { name: string; groupTag: string },
): string {
  const make = () => hash64(JSON.stringify([2, owner, group, linkTarget, rule.name, rule.groupTag]));
  if (linkTarget !== null) return make();
  let byNames = tails.get(rule);
  if (!byNames) tails.set(rule, byNames = new Map());
  const k = `${owner}\u0000${group}`;
  let t = byNames.get(k);
  if (t === undefined) {
    if (byNames.size >= 1024) byNames.clear();
    byNames.set(k, t = make());
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
