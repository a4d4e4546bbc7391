import assert from "node:assert/strict";
import { captureDecision, type CapturePolicy, capturePolicyKey, secretName } from "./capture.ts";

Deno.test("secretName() knows the files an attacker looks for, and leaves ordinary ones alone", () => {
  const secret = [
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/shadow-",
    "/etc/gshadow.bak",
    "/etc/sssd/sssd.conf",
    "/etc/nslcd.conf",
    "/etc/ldap.secret",
    "/etc/libnss-ldap.conf",
    "/etc/krb5.keytab",
    "/etc/http.keytab",
    "/etc/ssl/private/ssl-cert-snakeoil.key",
    "/etc/ssl/private/anything",
    "/etc/nginx/tls/site.pem",
    "/srv/app/store.p12",
    "/etc/ssh/ssh_host_ed25519_key",
    "/root/.ssh/id_rsa",
    "/root/.ssh/id_ed25519_sk",
    "/home/a/.ssh/config",
    "/home/a/.ssh/authorized_keys",
    "/root/.pgpass",
    "/root/.netrc",
    "/root/.my.cnf",
    "/etc/mysql/debian.cnf",
    "/home/a/.git-credentials",
    "/home/a/.aws/credentials",
    "/home/a/.docker/config.json",
    "/home/a/.kube/config",
    "/home/a/.gnupg/private-keys-v1.d/ABC.key",
    "/etc/NetworkManager/system-connections/home.nmconnection",
    "/etc/wpa_supplicant/wpa_supplicant.conf",
    "/etc/ppp/chap-secrets",
    "/etc/ipsec.secrets",
    "/etc/postfix/sasl_passwd",
    "/etc/apache2/.htpasswd",
    "/srv/app/.env",
    "/srv/app/db_password.txt",
    "/srv/app/client_secret.json",
    "/run/secrets/db",
    "/srv/infra/terraform.tfstate",
    "C:\\Windows\\System32\\config\\SAM",
    "C:\\Windows\\Panther\\Unattend.xml",
    "C:\\Users\\a\\.SSH\\ID_RSA",
  ];
  for (const p of secret) assert.ok(secretName(p), `${p} is secret-bearing`);
  const ordinary = [
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/ssh/sshd_config",
    "/etc/ssh/ssh_host_ed25519_key.pub",
    "/home/a/.ssh/id_rsa.pub",
    "/etc/ldap/ldap.conf",
    "/etc/adduser.conf",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/systemd/system.conf",
    "C:\\Windows\\win.ini",
  ];
  for (const p of ordinary) assert.equal(secretName(p), undefined, p);
});

const policy = (o: Partial<CapturePolicy> = {}): CapturePolicy => ({
  rulePath: "/etc/.*.conf",
  captureRestricted: false,
  allowed: [],
  windows: false,
  ...o,
});

Deno.test("captureDecision(): world-readable in open directories is captured; otherwise it says why and how", () => {
  const f = { path: "/etc/app.conf", mode: 0o644, dirsOpen: true };
  assert.equal(captureDecision(f, policy()), undefined);
  assert.match(
    captureDecision({ ...f, mode: 0o600 }, policy())!,
    /^the file is not world-readable \(0600\); set captureRestricted to capture it$/,
  );
  assert.match(captureDecision({ ...f, mode: 0o640 }, policy())!, /\(0640\)/);
  assert.match(captureDecision({ ...f, dirsOpen: false }, policy())!, /directory above the file is closed/);
  let asked = 0;
  const lazy = () => (asked++, true);
  captureDecision({ ...f, mode: 0o600, dirsOpen: lazy }, policy());
  assert.equal(asked, 0, "the directories are not looked at when the mode already says no");
  assert.match(
    captureDecision({ ...f, mode: null }, policy({ windows: true }))!,
    /not known \(Windows ACLs are not read\)/,
  );
  for (const open of [policy({ captureRestricted: true }), policy({ allowed: ["/etc/app.conf"] })]) {
    assert.equal(captureDecision({ ...f, mode: 0o600, dirsOpen: false }, open), undefined);
  }
  assert.equal(
    captureDecision({ ...f, mode: 0o600 }, policy({ allowed: ["/etc/"] })),
    undefined,
    "a directory",
  );
  assert.match(captureDecision({ ...f, mode: 0o600 }, policy({ allowed: ["/et"] }))!, /not world-readable/);
});

Deno.test("captureDecision(): a secret-bearing name needs the file named literally, and captureRestricted if private", () => {
  const sssd = { path: "/etc/sssd/sssd.conf", mode: 0o600, dirsOpen: true };
  assert.match(captureDecision(sssd, policy({ captureRestricted: true }))!, /holds secrets \(sssd\.conf\)/);
  const named = policy({ rulePath: "/etc/sssd/sssd.conf" });
  assert.match(captureDecision(sssd, named)!, /not world-readable/, "named, but still private");
  assert.equal(captureDecision(sssd, { ...named, captureRestricted: true }), undefined);
  assert.equal(captureDecision(sssd, policy({ allowed: ["/etc/sssd/sssd.conf"] })), undefined);
  assert.match(
    captureDecision(sssd, policy({ allowed: ["/etc/sssd/"] }))!,
    /holds secrets/,
    "a directory is no name",
  );
  const world = { path: "/srv/tls/site.pem", mode: 0o644, dirsOpen: true };
  assert.match(captureDecision(world, policy())!, /\*\.pem/, "world-readable or not");
  const viaLink = { path: "/etc/app.conf", realPath: "/etc/ssl/private/k.key", mode: 0o644, dirsOpen: true };
  assert.match(captureDecision(viaLink, policy())!, /holds secrets/, "a link to a key");
  const win = policy({
    windows: true,
    rulePath: "C:\\Windows\\Panther\\unattend.xml",
    captureRestricted: true,
  });
  assert.equal(
    captureDecision({ path: "C:\\WINDOWS\\Panther\\Unattend.xml", mode: null, dirsOpen: false }, win),
    undefined,
  );
});

Deno.test("capturePolicyKey() is empty in the usual case and moves with what decides capture", () => {
  assert.equal(capturePolicyKey("/etc/a.conf", policy()), "");
  assert.equal(capturePolicyKey("/etc/a.conf", policy({ captureRestricted: true })), "r");
  assert.equal(capturePolicyKey("/etc/a.conf", policy({ rulePath: "/etc/a.conf" })), "n");
  assert.equal(capturePolicyKey("/etc/a.conf", policy({ allowed: ["/etc/a.conf"] })), "N");
  assert.equal(capturePolicyKey("/etc/a.conf", policy({ allowed: ["/etc/"] })), "U");
  assert.equal(capturePolicyKey("/etc/a.conf", policy({ allowed: ["/srv/"] })), "");
});
