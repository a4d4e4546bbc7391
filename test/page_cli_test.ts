// The page's command line: page-url, --listen off loopback, TLS flags, --no-auth, --capture-restricted.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runCli, withTempDir } from "./helpers.ts";
import { loadPageToken } from "../ui/token.ts";
import { parseCli } from "../agent/cli.ts";
import { openDb } from "../db/open.ts";
import { startUi } from "../ui/server.ts";

const haveOpenssl = existsSync("/usr/bin/openssl");

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, "cert.pem"), key = join(dir, "key.pem");
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      // A server certificate, not a CA (rustls refuses a CA certificate as the server's own).
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "extendedKeyUsage=serverAuth",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return { cert, key };
}

Deno.test("ctagent page-url prints the sign-in address with the data dir's token; --rotate makes a new one", async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, "data");
    const none = await runCli(["page-url", "--data-dir", data]);
    assert.equal(none.code, 19);
    assert.match(none.err, /no page token in .* yet: the agent makes it/);
    const t = loadPageToken(data);
    const r = await runCli(["page-url", "--data-dir", data, "--listen", "127.0.0.1:9999"]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), `http://127.0.0.1:9999/?token=${t.token}`);
    const rotated = await runCli(["page-url", "--data-dir", data, "--rotate"]);
    assert.equal(rotated.code, 0);
    assert.notEqual(rotated.out.trim(), r.out.trim());
    assert.match(rotated.err, /every earlier session has ended/);
    assert.equal(rotated.out.trim(), `http://127.0.0.1:8470/?token=${loadPageToken(data).token}`);
    assert.equal(
      (await runCli(["status", "--rotate", "--data-dir", data])).code,
      16,
      "--rotate is page-url's",
    );
  });
});

Deno.test("--listen off loopback needs TLS or --insecure-listen (exit 16); the TLS flags go together and are checked", async () => {
  const refused = await runCli(["--listen", "0.0.0.0:8470"]);
  assert.equal(refused.code, 16);
  assert.match(
    refused.err,
    /0\.0\.0\.0:8470 is not a loopback address: serve it over TLS \(--tls-cert FILE --tls-key FILE\)/,
  );
  assert.throws(() => parseCli(["--listen", "[::]:8470"]), /not a loopback address/);
  assert.equal(parseCli(["--listen", "0.0.0.0:8470", "--insecure-listen"]).page.insecureListen, true);
  assert.throws(() => parseCli(["--listen", "0.0.0.0:8470", "--no-auth"]), /--no-auth on 0\.0\.0\.0:8470/);
  assert.throws(() => parseCli(["--tls-cert", "/x.pem"]), /--tls-cert needs --tls-key FILE/);
  assert.throws(() => parseCli(["--tls-key", "/x.pem"]), /--tls-key needs --tls-cert FILE/);
  const missing = await runCli(["--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"]);
  assert.equal(missing.code, 16);
  assert.match(missing.err, /--tls-cert: cannot read \/nonexistent\/c\.pem/);
  assert.equal(
    (await runCli(["--once", "--capture-restricted", "etc/x.conf"])).code,
    16,
    "--capture-restricted takes absolute paths",
  );
});

Deno.test({
  name: "--tls-cert/--tls-key: a non-certificate or another certificate's key is refused by name",
  ignore: !haveOpenssl,
  async fn() {
    await withTempDir(async (dir) => {
      const a = await selfSigned(dir);
      await Deno.mkdir(join(dir, "b"));
      const b = await selfSigned(join(dir, "b"));
      assert.throws(() => parseCli(["--tls-cert", a.key, "--tls-key", a.key]), /is not a PEM certificate/);
      assert.throws(() => parseCli(["--tls-cert", a.cert, "--tls-key", a.cert]), /is not a PEM private key/);
      assert.throws(
        () => parseCli(["--tls-cert", a.cert, "--tls-key", b.key]),
        /is not the private key of the certificate/,
      );
      const ok = parseCli(["--listen", "0.0.0.0:0", "--tls-cert", a.cert, "--tls-key", a.key]);
      assert.match(ok.page.tls!.cert, /BEGIN CERTIFICATE/);
    });
  },
});

Deno.test({
  name:
    "the page over TLS (a self-signed certificate made here): https address, Secure __Host- session cookie",
  ignore: !haveOpenssl,
  async fn() {
    await withTempDir(async (dir) => {
      const files = await selfSigned(dir);
      const tls = { cert: await Deno.readTextFile(files.cert), key: await Deno.readTextFile(files.key) };
      const opened = await openDb(join(dir, "data", "state.db"));
      const assets = { html: "<!doctype html><title>t</title>", js: "", css: "", hash: "h" };
      const ui = await startUi({
        db: opened,
        listen: "127.0.0.1:0",
        tls,
        assets,
        dataDir: join(dir, "data"),
      });
      assert.equal(ui.thread, "worker", "served as the agent serves it");
      const client = Deno.createHttpClient({ caCerts: [tls.cert] });
      // Deno's fetch takes a client that trusts this certificate (not in the DOM's RequestInit type).
      const get = (url: string, init: RequestInit = {}) => fetch(url, { ...init, client } as RequestInit);
      try {
        assert.match(ui.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
        const unsigned = await get(ui.url + "api/status");
        assert.equal(unsigned.status, 401);
        await unsigned.body?.cancel();
        const r = await get(ui.signInUrl, { redirect: "manual" });
        await r.body?.cancel();
        assert.equal(r.status, 303);
        const set = r.headers.get("set-cookie")!;
        assert.match(set, /^__Host-ctagent_\d+=.*; HttpOnly; SameSite=Strict; Secure$/);
        const page = await get(ui.url, { headers: { cookie: set.split(";")[0] } });
        assert.equal(page.status, 200);
        await page.body?.cancel();
      } finally {
        client.close();
        await ui.stop();
        await opened.close();
      }
    });
  },
});
