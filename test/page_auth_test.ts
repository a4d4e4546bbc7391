// End to end: a running agent's page, asked by another local user (curl as `nobody`): nothing without a
// session, and with one no content of a file that user could not read, unless the DCR says captureRestricted.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createApi } from "../ui/api.ts";
import { COLLECTORS } from "../agent/collectors/mod.ts";
import { openDb } from "../db/open.ts";
import { onlyDcr } from "./helpers.ts";
import { startAgentProcess } from "./agent_process.ts";

const SECRET = "bindpw=hunter2-e2e";
const can = Deno.build.os === "linux" && Deno.uid() === 0 && existsSync("/usr/bin/setpriv") &&
  existsSync("/usr/bin/curl");
if (!can) console.warn("SKIPPED test/page_auth_test.ts: needs root, setpriv and curl (Linux)");

/** Runs curl as nobody (no groups); returns the status code and the body. */
async function curlAsNobody(url: string, opts: { cookie?: string; method?: string } = {}) {
  const args = [
    "--reuid=nobody",
    "--regid=nogroup",
    "--clear-groups",
    "curl",
    "-s",
    // The event stream never ends by itself: its status is what is checked.
    "--max-time",
    "3",
    "-o",
    "-",
    "-w",
    "\n%{http_code}",
  ];
  if (opts.cookie) args.push("-H", `Cookie: ${opts.cookie}`);
  if (opts.method) args.push("-X", opts.method);
  args.push(url);
  const out = await new Deno.Command("setpriv", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const at = text.lastIndexOf("\n");
  return { status: Number(text.slice(at + 1)), body: text.slice(0, at) };
}

/** Every route of the API, with parameters that make each one answer (listed from the app itself). */
async function apiRoutes(file: string, sum: string): Promise<{ method: string; path: string }[]> {
  const opened = await openDb(":memory:");
  const routes = createApi({ db: opened.db, collectors: COLLECTORS }).routes;
  await opened.close();
  const fill: Record<string, string> = {
    "/content/:checksum": `/content/${sum}?key=${encodeURIComponent(file)}`,
    "/item": `/item?collector=files&key=${encodeURIComponent(file)}`,
    "/diff": `/diff?from=${sum}&to=${sum}&key=${encodeURIComponent(file)}`,
    "/search": "/search?q=conf",
    "/compare": "/compare?from=24h",
    "/*": "/no-such-route",
  };
  const seen = new Set<string>();
  const out: { method: string; path: string }[] = [];
  for (const r of routes) {
    const key = `${r.method} ${r.path}`;
    if (seen.has(key) || r.method === "ALL" && r.path !== "/*") continue;
    seen.add(key);
    // Exports need a format (each collector's inventory has an export route of its own).
    const path = fill[r.path] ?? (r.path.startsWith("/export/") ? `${r.path}?format=csv` : r.path);
    out.push({ method: r.method === "ALL" ? "GET" : r.method, path: `/api${path}` });
  }
  return out;
}

Deno.test({
  name:
    "the page as another local user (curl as nobody): 401 everywhere without a session; with one, no content of a 0600 file unless captureRestricted",
  ignore: !can,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ctagent-page-auth-" });
    await Deno.chmod(dir, 0o755);
    const tree = join(dir, "tree");
    await Deno.mkdir(tree, { mode: 0o755 });
    await Deno.chmod(tree, 0o755);
    const open = join(tree, "open.conf"), bind = join(tree, "bind.conf");
    await Deno.writeTextFile(open, "open=1\n");
    await Deno.chmod(open, 0o644);
    await Deno.writeTextFile(bind, `${SECRET}\n`);
    await Deno.chmod(bind, 0o600);
    const dcr = join(dir, "dcr.json");
    const rule = { name: "tree", destinationPath: `${tree}/.*`, recurse: true };
    const writeDcr = (extra: Record<string, unknown>) =>
      Deno.writeTextFile(
        dcr,
        onlyDcr(["files"], {
          fileSettings: { fileCollectionFrequency: 3600, fileInfo: [{ ...rule, ...extra }] },
        }),
      );
    await writeDcr({});
    const data = join(dir, "data");
    const agent = await startAgentProcess([
      "--data-dir",
      data,
      "--dcr",
      dcr,
      "--no-ama",
      "--listen",
      "127.0.0.1:0",
    ]);
    try {
      // The token file is root's alone: nobody cannot read it.
      const st = await Deno.stat(join(data, "page-token"));
      assert.equal(st.mode! & 0o777, 0o600);
      const cat = await new Deno.Command("setpriv", {
        args: ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat", join(data, "page-token")],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.notEqual(cat.code, 0, "nobody cannot read the page token");

      // Root signs in (as `ctagent page-url` lets it) and waits for the first files run.
      const signed = await fetch(agent.signIn, { redirect: "manual" });
      await signed.body?.cancel();
      assert.equal(signed.status, 303);
      const cookie = signed.headers.get("set-cookie")!.split(";")[0];
      const asRoot = (path: string) => fetch(agent.base + path, { headers: { cookie } });
      type Inv = { rows: { key: string; data: Record<string, string | null> }[] };
      let inv: Inv = { rows: [] };
      for (let i = 0; i < 300 && inv.rows.length < 2; i++) {
        inv = await (await asRoot("/api/inventory/files")).json();
        if (inv.rows.length < 2) await new Promise((r) => setTimeout(r, 100));
      }
      const sumOf = (p: string) => inv.rows.find((r) => r.key === p)!.data.FileContentChecksum!;
      assert.match(
        inv.rows.find((r) => r.key === bind)!.data.ContentNotCaptured!,
        /not world-readable \(0600\)/,
      );

      // Without a session: every API route, the page and the rest answer 401, and say nothing else.
      const routes = await apiRoutes(bind, sumOf(bind));
      assert.ok(routes.length >= 12, `${routes.length} API routes`);
      const pages = ["/", "/index.html", "/app.js", "/app.css", "/favicon.svg", "/no-such-page"];
      for (const r of [...routes, ...pages.map((path) => ({ method: "GET", path }))]) {
        const res = await curlAsNobody(agent.base + r.path, { method: r.method });
        assert.equal(res.status, 401, `${r.method} ${r.path} without a session`);
        assert.ok(!res.body.includes(SECRET) && !res.body.includes("open=1"), r.path);
      }
      const page = await curlAsNobody(`${agent.base}/`);
      assert.match(page.body, /ctagent page-url/, "the page says how to sign in");
      const wrong = await curlAsNobody(`${agent.base}/?token=${"0".repeat(64)}`);
      assert.equal(wrong.status, 401);
      // The page's worker hands its log lines to the agent's log: the line follows the answer shortly.
      for (let i = 0; i < 100 && !/page sign-in failed: wrong token/.test(agent.log()); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(agent.log(), /page sign-in failed: wrong token/);

      // With a session handed to it: the API answers, but never the 0600 file's content.
      for (const r of routes) {
        const res = await curlAsNobody(agent.base + r.path, { cookie, method: r.method });
        assert.notEqual(res.status, 401, `${r.method} ${r.path} with a session`);
        assert.ok(!res.body.includes(SECRET), `${r.method} ${r.path} shows the 0600 file's content`);
      }
      const key = (p: string) => encodeURIComponent(p);
      const refused = await curlAsNobody(`${agent.base}/api/content/${sumOf(bind)}?key=${key(bind)}`, {
        cookie,
      });
      assert.equal(refused.status, 403);
      assert.match(refused.body, /not world-readable \(0600\)/);
      const shown = await curlAsNobody(`${agent.base}/api/content/${sumOf(open)}?key=${key(open)}`, {
        cookie,
      });
      assert.equal(shown.status, 200);
      assert.match(shown.body, /open=1/);

      // The DCR says captureRestricted: after the next run the content is captured and shown.
      await writeDcr({ captureRestricted: true });
      const html = await (await asRoot("/")).text();
      const write = /name="ctagent-token" content="([0-9a-f]+)"/.exec(html)![1];
      let text = "";
      for (let i = 0; i < 100 && !text.includes(SECRET); i++) {
        await new Promise((r) => setTimeout(r, 300));
        const scan = await fetch(`${agent.base}/api/scan`, {
          method: "POST",
          headers: {
            cookie,
            origin: agent.base,
            "x-ctagent-token": write,
            "content-type": "application/json",
          },
          body: JSON.stringify({ collector: "files" }),
        });
        await scan.body?.cancel();
        text =
          (await curlAsNobody(`${agent.base}/api/content/${sumOf(bind)}?key=${key(bind)}`, { cookie })).body;
      }
      assert.match(text, new RegExp(SECRET), `shown once captureRestricted:\n${agent.log()}`);
    } finally {
      await agent.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
