// What a module file says of itself: its .modinfo strings (as modinfo shows them) and its appended signature.
import { gunzipSync, zstdDecompressSync } from "node:zlib";

/** The module name of a file (`kernel/net/foo-bar.ko.zst` → `foo_bar`): as the kernel and modprobe name it. */
export function moduleNameOf(path: string): string | null {
  const m = /([^/]+)\.ko(\.(gz|xz|zst))?$/.exec(path);
  return m ? m[1].replaceAll("-", "_") : null;
}

/** modules.dep (`path: deps…` per line) → module name → its path under the modules directory. */
export function parseModulesDep(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const path = line.slice(0, colon);
    const name = moduleNameOf(path);
    if (name && !out.has(name)) out.set(name, path);
  }
  return out;
}

/**
 * The module bytes of a file, decompressed by its name's suffix; a string saying why not when the compression
 * has no decoder here (xz: none in Deno's runtime, and ctagent adds no dependency for it).
 */
export function decompressModule(path: string, bytes: Uint8Array): Uint8Array | string {
  if (path.endsWith(".ko")) return bytes;
  if (path.endsWith(".ko.gz")) return new Uint8Array(gunzipSync(bytes));
  if (path.endsWith(".ko.zst")) return new Uint8Array(zstdDecompressSync(bytes));
  if (path.endsWith(".ko.xz")) {
    return "xz-compressed: ctagent has no xz decoder, so its version and signature are not read";
  }
  return `not a module file name: ${path}`;
}

/**
 * The strings of the ELF section `.modinfo` (`key=value`, NUL-separated) by key, in file order; keys that repeat
 * (alias, parm) keep every value. Throws when the bytes are not a 64-bit little-endian ELF file with that section.
 */
export function readModinfo(elf: Uint8Array): Map<string, string[]> {
  const bad = (why: string): never => {
    throw new TypeError(`Cannot read the module's .modinfo: ${why}`);
  };
  if (elf.length < 64 || elf[0] !== 0x7f || elf[1] !== 0x45 || elf[2] !== 0x4c || elf[3] !== 0x46) {
    bad("not an ELF file");
  }
  if (elf[4] !== 2 || elf[5] !== 1) {
    bad(`ELF class ${elf[4]}, data ${elf[5]}: only 64-bit little-endian is read`);
  }
  const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const shoff = Number(v.getBigUint64(0x28, true));
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  const shstrndx = v.getUint16(0x3e, true);
  if (shentsize < 64 || shoff + shnum * shentsize > elf.length || shstrndx >= shnum) {
    bad(`section headers out of the file (offset ${shoff}, ${shnum} of ${shentsize} bytes)`);
  }
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    const offset = Number(v.getBigUint64(at + 0x18, true));
    const size = Number(v.getBigUint64(at + 0x20, true));
    if (offset + size > elf.length) bad(`section ${i} out of the file`);
    return { name: v.getUint32(at, true), type: v.getUint32(at + 4, true), offset, size };
  };
  const names = section(shstrndx);
  const text = new TextDecoder();
  const nameAt = (off: number) => {
    const start = names.offset + off;
    const end = elf.indexOf(0, start);
    return text.decode(elf.subarray(start, end < 0 ? names.offset + names.size : end));
  };
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    // SHT_NOBITS (8) has no bytes in the file.
    if (s.type === 8 || nameAt(s.name) !== ".modinfo") continue;
    const out = new Map<string, string[]>();
    for (const entry of text.decode(elf.subarray(s.offset, s.offset + s.size)).split("\0")) {
      const eq = entry.indexOf("=");
      if (eq <= 0) continue;
      const key = entry.slice(0, eq);
      out.set(key, [...out.get(key) ?? [], entry.slice(eq + 1)]);
    }
    return out;
  }
  return bad("no .modinfo section");
}

const MAGIC = new TextEncoder().encode("~Module signature appended~\n");

/** What the appended signature says, as modinfo shows it (sig_id, signer, sig_key, sig_hashalgo). */
export interface ModuleSignature {
  signed: boolean;
  /** PKCS#7, X509 or PGP (the kernel's id_type). */
  idType: string | null;
  /** The common name of the signing certificate's issuer (PKCS#7) or the signer's name. */
  signer: string | null;
  /** The certificate's serial number (PKCS#7) or the key id, as modinfo writes it: `2A:3E:…`. */
  key: string | null;
  hashAlgo: string | null;
  /** Why the signature could not be read, when it is there but could not be. */
  error?: string;
}

const ID_TYPES = ["PGP", "X509", "PKCS#7"];

/**
 * The signature the kernel's sign-file appended (module bytes, signature, struct module_signature, magic),
 * or `signed: false` when the file does not end with the magic.
 */
export function readSignature(module: Uint8Array): ModuleSignature {
  const none = { signed: false, idType: null, signer: null, key: null, hashAlgo: null };
  const tail = module.length - MAGIC.length;
  if (tail < 12 || MAGIC.some((b, i) => module[tail + i] !== b)) return none;
  const info = tail - 12;
  const v = new DataView(module.buffer, module.byteOffset, module.byteLength);
  const idType = module[info + 2];
  const signerLen = module[info + 3];
  const keyIdLen = module[info + 4];
  const sigLen = v.getUint32(info + 8, false);
  const signed = {
    signed: true,
    idType: ID_TYPES[idType] ?? `type ${idType}`,
    signer: null,
    key: null,
    hashAlgo: null,
  };
  if (sigLen > info) return { ...signed, error: `signature length ${sigLen} is more than the file holds` };
  const sig = module.subarray(info - sigLen, info);
  if (idType !== 2) {
    // Before PKCS#7 (kernels up to 4.3): signer name, key id, then the signature itself.
    if (signerLen + keyIdLen > sigLen) {
      return { ...signed, error: "signer and key id longer than the signature" };
    }
    return {
      ...signed,
      signer: new TextDecoder().decode(sig.subarray(0, signerLen)),
      key: hexColons(sig.subarray(signerLen, signerLen + keyIdLen)),
    };
  }
  try {
    return { ...signed, ...pkcs7Signer(sig) };
  } catch (e) {
    return { ...signed, error: `cannot read the PKCS#7 signature: ${(e as Error).message}` };
  }
}

/** `2A:3E:60`, as modinfo writes key ids. */
function hexColons(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, "0")).join(":");
}

interface Der {
  tag: number;
  /** The content's bytes. */
  body: Uint8Array;
  /** The whole element's length, header included. */
  length: number;
}

/** One DER element at the start of `bytes` (definite lengths only, as DER has). */
function der(bytes: Uint8Array): Der {
  if (bytes.length < 2) throw new RangeError("DER element cut short");
  const tag = bytes[0];
  let len = bytes[1];
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || bytes.length < 2 + n) throw new RangeError("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[2 + i];
    head += n;
  }
  if (head + len > bytes.length) throw new RangeError("DER element longer than its container");
  return { tag, body: bytes.subarray(head, head + len), length: head + len };
}

/** The elements inside a constructed element's body. */
function children(body: Uint8Array): Der[] {
  const out: Der[] = [];
  for (let at = 0; at < body.length;) {
    const d = der(body.subarray(at));
    out.push(d);
    at += d.length;
  }
  return out;
}

function oid(body: Uint8Array): string {
  const parts = [Math.floor(body[0] / 40), body[0] % 40];
  let n = 0;
  for (const b of body.subarray(1)) {
    n = n * 128 + (b & 0x7f);
    if (!(b & 0x80)) parts.push(n), n = 0;
  }
  return parts.join(".");
}

const HASHES: Record<string, string> = {
  "1.2.840.113549.2.5": "md5",
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.4": "sha224",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
  "2.16.840.1.101.3.4.2.8": "sha3-256",
  "2.16.840.1.101.3.4.2.9": "sha3-384",
  "2.16.840.1.101.3.4.2.10": "sha3-512",
  "1.2.156.10197.1.401": "sm3",
};
const COMMON_NAME = "2.5.4.3";

/**
 * The first SignerInfo of a PKCS#7 SignedData (what sign-file writes): its issuer's common name, serial number
 * and digest algorithm, which is what modinfo shows as signer, sig_key and sig_hashalgo.
 */
export function pkcs7Signer(
  bytes: Uint8Array,
): { signer: string | null; key: string | null; hashAlgo: string } {
  const [type, wrapped] = children(der(bytes).body);
  if (type?.tag !== 0x06 || oid(type.body) !== "1.2.840.113549.1.7.2" || wrapped?.tag !== 0xa0) {
    throw new TypeError("not a PKCS#7 SignedData");
  }
  const signedData = children(der(wrapped.body).body);
  const signerInfos = signedData[signedData.length - 1];
  if (signerInfos?.tag !== 0x31) throw new TypeError("no SignerInfos");
  const first = children(signerInfos.body)[0];
  if (!first) throw new TypeError("no SignerInfo");
  const [, sid, digest] = children(first.body);
  const hashOid = oid(children(digest.body)[0].body);
  const hashAlgo = HASHES[hashOid] ?? hashOid;
  if (sid.tag !== 0x30) {
    // [0] subjectKeyIdentifier (sign-file -k): no issuer name, the key id only.
    return { signer: null, key: hexColons(sid.body), hashAlgo };
  }
  const [issuer, serial] = children(sid.body);
  let signer: string | null = null;
  for (const rdn of children(issuer.body)) {
    for (const atv of children(rdn.body)) {
      const [type, value] = children(atv.body);
      if (signer === null && oid(type.body) === COMMON_NAME) signer = new TextDecoder().decode(value.body);
    }
  }
  // The serial as a number's bytes: a leading zero DER keeps for the sign bit is not part of it.
  let s = serial.body;
  while (s.length > 1 && s[0] === 0) s = s.subarray(1);
  return { signer, key: hexColons(s), hashAlgo };
}
