// POSIX access ACLs: the system.posix_acl_access xattr through libc FFI, and getfacl's short text of it (SPEC §7.21).
import { errnoName, getXattr } from "./libc_posix.ts";

/** The xattr that holds a file's access ACL (the Linux kernel's POSIX ACL format, version 2). */
const ACL_XATTR = "system.posix_acl_access\0";
const ACL_XATTR_VERSION = 2;
const ACL_USER_OBJ = 0x01;
const ACL_USER = 0x02;
const ACL_GROUP_OBJ = 0x04;
const ACL_GROUP = 0x08;
const ACL_MASK = 0x10;
const ACL_OTHER = 0x20;
const ENODATA = 61;
const EOPNOTSUPP = 95;

const encoder = new TextEncoder();
const NAME = encoder.encode(ACL_XATTR);
/** Room for 8,190 entries: more than ext4 or xfs store (an ACL larger than this is an error, never cut). */
const buf = new Uint8Array(4 + 8 * 8190);
const BUF_LEN = BigInt(buf.length);

/** An xattr read that failed: `errno` as the kernel gave it. */
export class AclError extends Error {
  override name = "AclError";
  constructor(readonly errno: number, where: string) {
    super(`cannot read the access ACL of ${where}: ${errnoName(errno)}`);
  }
}

/** What a getxattr call that returned `n` read: the xattr's bytes, or null when the file has none. */
function result(n: number, where: () => string): Uint8Array | null {
  if (n >= 0) return buf.slice(0, n);
  // No ACL beyond the mode bits, or a file system without ACLs: the mode says it all.
  if (n === -ENODATA || n === -EOPNOTSUPP) return null;
  throw new AclError(-n, where());
}

/**
 * The raw access ACL of an open file (fgetxattr: no path lookup), or null when it has none beyond its mode.
 * Throws AclError for any other failure.
 */
export function readAccessAclFd(fd: number): Uint8Array | null {
  return result(getXattr(fd, NAME, buf, BUF_LEN), () => `fd ${fd}`);
}

/** The raw access ACL of a path (`follow`: of a symlink's target), or null when it has none beyond its mode. */
export function readAccessAclPath(path: string, follow: boolean): Uint8Array | null {
  return readAt(encoder.encode(path + "\0"), follow, () => path);
}

/**
 * The raw access ACL of `name` (its bytes, NUL-terminated) in the open directory `dirfd`, through
 * /proc/self/fd: any name, however long its path or whatever its bytes, without a getxattrat(2).
 */
export function readAccessAclAt(dirfd: number, name: Uint8Array, follow: boolean): Uint8Array | null {
  const dir = encoder.encode(`/proc/self/fd/${dirfd}/`);
  const p = new Uint8Array(dir.length + name.length);
  p.set(dir);
  p.set(name, dir.length);
  return readAt(p, follow, () => `an entry of directory fd ${dirfd}`);
}

function readAt(path: Uint8Array<ArrayBuffer>, follow: boolean, where: () => string): Uint8Array | null {
  return result(getXattr(path, NAME, buf, BUF_LEN, follow), where);
}

const perms = (p: number) => `${p & 4 ? "r" : "-"}${p & 2 ? "w" : "-"}${p & 1 ? "x" : "-"}`;
/** The text of each of the 512 modes' base ACLs, made once (most files have no ACL beyond their mode). */
const BASE: string[] = [];

/** Names for the ids an ACL holds (getfacl prints the name, or the number when there is none). */
export interface AclNames {
  user(uid: number): string | undefined;
  group(gid: number): string | undefined;
}

/**
 * getfacl's short text of a file's access ACL, entries joined by commas: `user::rw-,group::r--,other::r--`
 * from the mode when the file has no ACL xattr, otherwise every entry of the xattr in getfacl's order
 * (`user::rw-,user:alice:rwx,group::r--,mask::rwx,other::r--`). Throws TypeError for a malformed xattr.
 */
export function formatAccessAcl(mode: number, xattr: Uint8Array | null, names: AclNames): string {
  if (!xattr) {
    return BASE[mode & 0o777] ??= `user::${perms(mode >> 6)},group::${perms(mode >> 3)},other::${
      perms(mode)
    }`;
  }
  const v = new DataView(xattr.buffer, xattr.byteOffset, xattr.byteLength);
  if (xattr.length < 4 || (xattr.length - 4) % 8 !== 0 || v.getUint32(0, true) !== ACL_XATTR_VERSION) {
    throw new TypeError(
      `Cannot parse a POSIX ACL xattr: ${xattr.length} bytes, version ${
        xattr.length >= 4 ? v.getUint32(0, true) : "?"
      }`,
    );
  }
  const entries: [tag: number, id: number, perm: number][] = [];
  for (let at = 4; at < xattr.length; at += 8) {
    entries.push([v.getUint16(at, true), v.getUint32(at + 4, true), v.getUint16(at + 2, true)]);
  }
  // The kernel keeps them in this order already; sorted anyway so equal ACLs are equal text.
  entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return entries.map(([tag, id, perm]) => {
    switch (tag) {
      case ACL_USER_OBJ:
        return `user::${perms(perm)}`;
      case ACL_USER:
        return `user:${names.user(id) ?? id}:${perms(perm)}`;
      case ACL_GROUP_OBJ:
        return `group::${perms(perm)}`;
      case ACL_GROUP:
        return `group:${names.group(id) ?? id}:${perms(perm)}`;
      case ACL_MASK:
        return `mask::${perms(perm)}`;
      case ACL_OTHER:
        return `other::${perms(perm)}`;
      default:
        throw new TypeError(`Cannot parse a POSIX ACL xattr: unknown entry tag 0x${tag.toString(16)}`);
    }
  }).join(",");
}
