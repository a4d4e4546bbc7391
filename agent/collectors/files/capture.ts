// Whose file content may be captured (and shown by the page): as private as the file, never a secret by accident;
// and why a file's content was not captured.
import { bytesText } from "../../host/files/limit.ts";

/** File names that hold secrets whatever their mode (lower case): credentials, keys, password databases. */
const SECRET_NAMES = new Set([
  // password and group databases, and their backups
  "shadow",
  "gshadow",
  "opasswd",
  "master.passwd",
  "spwd.db",
  "smbpasswd",
  "passdb.tdb",
  "secrets.tdb",
  "ntds.dit",
  // directory-service clients with bind passwords
  "sssd.conf",
  "nslcd.conf",
  "pam_ldap.conf",
  "libnss-ldap.conf",
  // Kerberos, Wi-Fi, mail, web server passwords (VPN, PPP and rsync secrets: by their suffix or word below)
  "keytab",
  "wpa_supplicant.conf",
  "hostapd.conf",
  "sasl_passwd",
  "htpasswd",
  ".htpasswd",
  "tomcat-users.xml",
  // per-user and service credentials
  "debian.cnf",
  ".my.cnf",
  ".pgpass",
  ".netrc",
  "_netrc",
  ".git-credentials",
  ".npmrc",
  ".pypirc",
  ".boto",
  ".s3cfg",
  ".dockercfg",
  ".vault-token",
  ".env",
  "identity",
  // Windows setup answer files (administrator passwords)
  "unattend.xml",
  "autounattend.xml",
  "sysprep.inf",
  "sysprep.xml",
]);

/** Name endings of key, certificate-bundle, keystore and credential files. */
const SECRET_SUFFIXES = [
  ".key",
  ".pem",
  ".p8",
  ".p12",
  ".pfx",
  ".jks",
  ".keystore",
  ".kdbx",
  ".keytab",
  ".ppk",
  ".asc",
  ".ovpn",
  ".nmconnection",
  ".secret",
  ".secrets",
  ".tfstate",
  ".tfvars",
  ".kubeconfig",
  ".cred",
  ".creds",
  ".credentials",
];

/** Words in a name that say what it holds. */
const SECRET_WORDS = ["secret", "password", "credential", "private"];

/** Directories whose files are keys or credentials (`.ssh` but its public keys). */
const SECRET_DIRS = [
  ".ssh",
  ".gnupg",
  "private-keys-v1.d",
  ".aws",
  ".azure",
  "gcloud",
  ".kube",
  ".docker",
  ".password-store",
  "system-connections",
  "keyrings",
  "secrets",
];

/**
 * Why `path` looks like a file that holds secrets (the pattern it matched), or undefined. Thought out as an
 * attacker would look for them: password databases, keys, tokens, answer files, credential directories.
 */
export function secretName(path: string): string | undefined {
  const parts = path.toLowerCase().replaceAll("\\", "/").split("/").filter(Boolean);
  const name = parts.at(-1) ?? "";
  const dirs = parts.slice(0, -1);
  if (SECRET_NAMES.has(name)) return name;
  if (/^g?shadow[-.~]/.test(name)) return "shadow backups";
  if (/^id_[a-z0-9_]+$/.test(name)) return "id_* (SSH private keys)";
  if (/^ssh_host_.*_key$/.test(name)) return "ssh_host_*_key";
  const suffix = SECRET_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) return `*${suffix}`;
  const word = SECRET_WORDS.find((w) => name.includes(w));
  if (word) return `*${word}*`;
  if (dirs.at(-1) === "config" && ["sam", "security", "system"].includes(name)) {
    return `config\\${name} (hive)`;
  }
  if (dirs.at(-1) === "private" && dirs.at(-2) === "ssl") return "ssl/private/";
  const dir = SECRET_DIRS.find((d) => dirs.includes(d));
  if (dir && !(dir === ".ssh" && name.endsWith(".pub"))) return `${dir}/`;
  return undefined;
}

/** What is known of one file version when its content is to be captured or shown. */
export interface CaptureFacts {
  /** The path as reported (FileSystemPath). */
  path: string;
  /** The path the content was read from when it differs (a followed link's target). */
  realPath?: string;
  /** Permission bits (`st_mode & 0o7777`); null when not known (Windows). */
  mode: number | null;
  /**
   * Every directory above the file (its real path) lets all users through; false when unknown. A function
   * is asked only when the answer matters (it looks at the file system).
   */
  dirsOpen: boolean | (() => boolean);
}

/** What the configuration says about one file: its fileInfo rule, and ctagent's own settings. */
export interface CapturePolicy {
  /** The fileInfo rule's path (a file named literally there was asked for by name). */
  rulePath: string;
  /** fileInfo `captureRestricted`: content of files not readable by every user may be captured. */
  captureRestricted: boolean;
  /** ctagent's settings: files (or directories, ending in a separator) that may be captured like that. */
  allowed: readonly string[];
  windows: boolean;
}

const sameText = (a: string, b: string, windows: boolean) =>
  windows ? a.toLowerCase() === b.toLowerCase() : a === b;

/** Whether ctagent's settings name `path`, or a directory above it. */
function listed(
  path: string,
  allowed: readonly string[],
  windows: boolean,
): { named: boolean; under: boolean } {
  let named = false, under = false;
  for (const a of allowed) {
    if (sameText(a, path, windows)) named = true;
    else if (/[\\/]$/.test(a) && sameText(path.slice(0, a.length), a, windows)) under = true;
  }
  return { named, under };
}

/**
 * Whether the content of a file version may be captured (or shown): undefined if so, otherwise why not, for
 * the item and the page. A file others cannot read (its mode, or a directory above it) needs captureRestricted
 * (or ctagent's settings); a secret-bearing name needs the file named literally besides. Pure: the caller
 * gathers the facts.
 */
export function captureDecision(f: CaptureFacts, p: CapturePolicy): string | undefined {
  const inList = p.allowed.length ? listed(f.path, p.allowed, p.windows) : { named: false, under: false };
  const named = sameText(p.rulePath, f.path, p.windows) || inList.named;
  const secret = secretName(f.path) ?? (f.realPath ? secretName(f.realPath) : undefined);
  if (secret && !named) {
    return `the name looks like a file that holds secrets (${secret}); name the file itself in a fileInfo path to capture it`;
  }
  if (p.captureRestricted || inList.named || inList.under) return undefined;
  const fix = "; set captureRestricted to capture it";
  if (f.mode === null) {
    return `the file's permissions are not known${p.windows ? " (Windows ACLs are not read)" : ""}${fix}`;
  }
  if (!(f.mode & 0o004)) {
    return `the file is not world-readable (${(f.mode & 0o7777).toString(8).padStart(4, "0")})${fix}`;
  }
  if (!(typeof f.dirsOpen === "function" ? f.dirsOpen() : f.dirsOpen)) {
    return `a directory above the file is closed to other users${fix}`;
  }
  return undefined;
}

/**
 * Why the content of a file whose rule captures content (`limit` > 0) was not captured, when privacy was not
 * the reason: a version of `size` bytes over the limit, or else content that is not text.
 */
export function uncapturedWhy(size: number, limit: number): string | undefined {
  if (limit <= 0) return undefined;
  return size > limit
    ? `${bytesText(size)} > limit of ${bytesText(limit)} (maxContentsReturnable)`
    : "binary (a NUL byte, or not UTF-8): only text is captured";
}

/**
 * A short text that changes when the capture policy of a file changes (captureRestricted, named literally,
 * listed in ctagent's settings), so the file is read again: empty for the usual case, which keeps the
 * fingerprints stored before this existed.
 */
export function capturePolicyKey(path: string, p: CapturePolicy): string {
  let key = p.captureRestricted ? "r" : "";
  if (sameText(p.rulePath, path, p.windows)) key += "n";
  if (p.allowed.length) {
    const l = listed(path, p.allowed, p.windows);
    if (l.named) key += "N";
    else if (l.under) key += "U";
  }
  return key;
}
