// Fingerprints of file versions: short hashes that are equal next time only when the item would be the same.

/** 64 bits of FNV-1a-style hashing of `text` in base 36: for comparing one path's versions, not for security. */
export function hash64(text: string): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return (h1 >>> 0).toString(36) + "." + (h2 >>> 0).toString(36);
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
  const print = `${statKey}:${
    hash64(JSON.stringify([2, owner, group, linkTarget, rule.name, rule.groupTag]))
  }`;
  return capture ? `${print}:${capture}` : print;
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
