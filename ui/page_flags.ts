// The page's command-line settings (sign-in, TLS, non-loopback consent) checked together, and `ctagent page-url`.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { lstatSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Listen, listenProblem } from "./security.ts";
import { loadPageToken, rotatePageToken, TOKEN_FILE } from "./token.ts";
import { EXIT } from "../agent/exit_codes.ts";

export interface PageFlags {
  noAuth: boolean;
  insecureListen: boolean;
  /** Certificate and key files as given. */
  tlsFiles?: { cert: string; key: string };
  /** Their PEM text, read and checked (a certificate, a private key, and the key is the certificate's). */
  tls?: { cert: string; key: string };
  /** page-url --rotate. */
  rotate: boolean;
}

function readPem(flag: string, file: string, fail: (m: string) => Error): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw fail(`${flag}: cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Checks a certificate and key pair; the error says which file is wrong and how. */
export function checkTls(
  files: { cert: string; key: string },
  fail: (m: string) => Error,
): { cert: string; key: string } {
  const cert = readPem("--tls-cert", files.cert, fail);
  const key = readPem("--tls-key", files.key, fail);
  let x509;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    throw fail(`--tls-cert: ${files.cert} is not a PEM certificate: ${(e as Error).message}`);
  }
  let pk;
  try {
    pk = createPrivateKey(key);
  } catch (e) {
    throw fail(`--tls-key: ${files.key} is not a PEM private key: ${(e as Error).message}`);
  }
  if (!x509.checkPrivateKey(pk)) {
    throw fail(`--tls-key: ${files.key} is not the private key of the certificate in ${files.cert}`);
  }
  return { cert, key };
}

/**
 * The page flags of a parsed command line. `read` reads and checks the TLS files (the daemon serves with
 * them; page-url only needs to know they are there). Throws `fail(message)` for any misuse.
 */
export function pageFlags(
  v: {
    "no-auth"?: boolean;
    "insecure-listen"?: boolean;
    "tls-cert"?: string;
    "tls-key"?: string;
    rotate?: boolean;
  },
  listen: Listen,
  read: boolean,
  fail: (m: string) => Error,
): PageFlags {
  const cert = v["tls-cert"], key = v["tls-key"];
  if ((cert === undefined) !== (key === undefined)) {
    throw fail(cert === undefined ? "--tls-key needs --tls-cert FILE" : "--tls-cert needs --tls-key FILE");
  }
  const tlsFiles = cert !== undefined && key !== undefined ? { cert, key } : undefined;
  const flags: PageFlags = {
    noAuth: !!v["no-auth"],
    insecureListen: !!v["insecure-listen"],
    tlsFiles,
    rotate: !!v.rotate,
  };
  const problem = listenProblem(listen, { ...flags, tls: !!tlsFiles });
  if (problem) throw fail(problem);
  if (read && tlsFiles) flags.tls = checkTls(tlsFiles, fail);
  return flags;
}

/**
 * `ctagent page-url`: prints the address that signs a browser in. Only who can read the token file can;
 * `--rotate` writes a new token first (every session signed with the old one ends).
 */
export function pageUrl(
  dataDir: string,
  listen: Listen,
  flags: PageFlags,
  io: { out(t: string): void; err(t: string): void },
): number {
  const host = listen.hostname === "0.0.0.0" || listen.hostname === "::"
    ? "127.0.0.1"
    : listen.hostname.includes(":")
    ? `[${listen.hostname}]`
    : listen.hostname;
  const base = `${flags.tlsFiles ? "https" : "http"}://${host}:${listen.port}/`;
  if (flags.noAuth) {
    io.out(base);
    io.err("ctagent: note: with --no-auth the page needs no sign-in");
    return EXIT.OK;
  }
  const file = join(dataDir, TOKEN_FILE);
  const denied = (e: unknown) =>
    (e as NodeJS.ErrnoException).code === "EACCES" || /EACCES|permission denied/i.test(String(e));
  try {
    if (!flags.rotate) lstatSync(file);
    const t = flags.rotate ? rotatePageToken(dataDir) : loadPageToken(dataDir, (msg, f) => {
      io.err(`ctagent: warning: ${msg} (${f.problem ?? file})`);
    });
    io.out(`${base}?token=${t.token}`);
    if (flags.rotate) io.err("ctagent: a new page token is in force: every earlier session has ended");
    return EXIT.OK;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      io.err(
        `ctagent: no page token in ${dataDir} yet: the agent makes it when it first serves the page ` +
          `(is it running with --data-dir ${dataDir}? as root, the default is /var/lib/ctagent)`,
      );
    } else {
      io.err(
        `ctagent: cannot read the page token ${file}: ${(e as Error).message}${
          denied(e) ? " (only who can read the page token can sign in: run as root)" : ""
        }`,
      );
    }
    return EXIT.DATABASE;
  }
}
