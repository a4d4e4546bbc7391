import assert from "node:assert/strict";
import { recordVerification, verifyChain } from "../db/chain.ts";
import { acknowledge } from "../db/acks.ts";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { startWorld, type World, XSS } from "./testdata/world.ts";

const SUM = /^[0-9a-f]{64}$/;

function client(w: World) {
  const host = `127.0.0.1:${w.ui.listen.port}`;
  const origin = `http://${host}`;
  const cookie = `${w.ui.auth!.cookieName()}=${w.ui.auth!.newSession()}`;
  return {
    host,
    origin,
    cookie,
    get: (path: string, headers: Record<string, string> = {}) =>
      w.ui.request(path, { headers: { host, cookie, ...headers } }),
    json: async <T = Record<string, unknown>>(path: string): Promise<T> => {
      const r = await w.ui.request(path, { headers: { host, cookie } });
      assert.equal(r.status, 200, `${path}: ${r.status} ${await r.clone().text()}`);
      return await r.json() as T;
    },
    post: (path: string, body: unknown, headers: Record<string, string> = {}) =>
      w.ui.request(path, {
        method: "POST",
        body: JSON.stringify(body),
        headers: {
          host,
          origin,
          cookie,
          "content-type": "application/json",
          "x-ctagent-token": w.ui.token,
          "sec-fetch-site": "same-origin",
          ...headers,
        },
      }),
  };
}

function installedPackages(): string[] {
  return execFileSync("dpkg-query", ["-W", "-f", "${db:Status-Status} ${Package}\n"], { encoding: "utf8" })
    .split("\n").filter((l) => l.startsWith("installed ")).map((l) => l.slice(10));
}

type Page = { total: number; rows: { key: string; data: Record<string, unknown> }[] };

Deno.test("API on a database filled by real runs: inventory, search, sort, paging, status, DCRs", async (t) => {
  const w = await startWorld();
  const c = client(w);
  try {
    await t.step("inventory lists this machine's dpkg packages", async () => {
      const pkgs = installedPackages();
      const page = await c.json<Page>("/api/inventory/software?limit=500");
      const all: string[] = [];
      for (let off = 0; off < page.total; off += 500) {
        const p = await c.json<Page>(`/api/inventory/software?limit=500&offset=${off}`);
        all.push(...p.rows.filter((r) => r.data.Manager === "dpkg").map((r) => String(r.data.SoftwareName)));
      }
      for (const name of pkgs) assert.ok(all.includes(name), `installed package ${name} missing`);
      assert.equal(page.total, all.length + 1, "dpkg packages plus the test source's one");
    });

    await t.step("search matches values, not field names, and counts what it matched", async () => {
      const name = installedPackages().find((p) => p.length > 4)!;
      const hit = await c.json<Page>(`/api/inventory/software?q=${encodeURIComponent(name.toUpperCase())}`);
      assert.ok(hit.rows.some((r) => r.data.SoftwareName === name));
      assert.equal(hit.total, hit.rows.length);
      for (const r of hit.rows) {
        assert.ok(JSON.stringify(Object.values(r.data)).toLowerCase().includes(name.toLowerCase()));
      }
      const none = await c.json<Page>("/api/inventory/software?q=CurrentVersion");
      assert.equal(none.total, 0, "a field name is not a value");
      const xss = await c.json<Page>(`/api/inventory/software?q=${encodeURIComponent(XSS)}`);
      assert.equal(xss.rows[0].data.SoftwareDescription, XSS, "machine text comes back verbatim, as data");
    });

    await t.step("sort by a column both ways, and pages do not overlap", async () => {
      const asc = await c.json<Page>("/api/inventory/software?sort=SoftwareName&limit=50");
      const names = asc.rows.map((r) => String(r.data.SoftwareName));
      const sorted = [...names].sort((a, b) =>
        a.localeCompare(b, "en", { numeric: true, sensitivity: "base" })
      );
      assert.deepEqual(names, sorted);
      const desc = await c.json<Page>("/api/inventory/software?sort=SoftwareName&dir=desc&limit=50");
      assert.ok(
        String(desc.rows[0].data.SoftwareName).localeCompare(names[0], "en", { sensitivity: "base" }) > 0,
      );
      const p2 = await c.json<Page>("/api/inventory/software?sort=SoftwareName&limit=50&offset=50");
      const keys = new Set(asc.rows.map((r) => r.key));
      assert.ok(p2.rows.length > 0 && p2.rows.every((r) => !keys.has(r.key)));
    });

    await t.step("bad parameters are 400 with a message", async () => {
      for (
        const path of [
          "/api/inventory/nope",
          "/api/inventory/software?sort=data)--",
          "/api/changes?category=Deleted",
          "/api/changes?since=yesterday",
          "/api/content/xyz",
        ]
      ) {
        const r = await c.get(path);
        assert.equal(r.status, 400, path);
        assert.ok((await r.json()).error, path);
      }
    });

    await t.step(
      "sort and filter only by what the collector's spec offers; anything else 400 naming it",
      async () => {
        const cases: [string, RegExp][] = [
          [
            "/api/inventory/software?sort=Nonexistent",
            /Cannot sort software by "Nonexistent": expected one of key, first_seen, changed_at, SoftwareName, CurrentVersion/,
          ],
          ["/api/inventory/software?sort=SvcState", /Cannot sort software by "SvcState"/],
          [
            "/api/inventory/software?filter.Publisher=x",
            /Unknown parameter "filter\.Publisher" for .*filter\.Manager/,
          ],
          [
            "/api/inventory/software?where=1",
            /Unknown parameter "where" for \/api\/inventory\/software: expected one of q, sort/,
          ],
          ["/api/inventory/software?errors=yes", /errors must be 0 or 1, got "yes"/],
          [
            "/api/changes?sort=at",
            /Unknown parameter "sort" for \/api\/changes: expected one of since, until, type, category, reviewed, timestamps, run, q/,
          ],
          ["/api/histogram?q=x", /Unknown parameter "q" for \/api\/histogram/],
          ["/api/status?x=1", /Unknown parameter "x" for \/api\/status: expected none/],
          ["/api/item?collector=software&key=k&extra=1", /Unknown parameter "extra"/],
          [`/api/inventory/software?q=${"x".repeat(300)}`, /q: at most 256 characters, got 300/],
          ["/api/histogram?since=30d&bucket=1000", /more than 10000 buckets/],
        ];
        for (const [path, message] of cases) {
          const r = await c.get(path);
          assert.equal(r.status, 400, path);
          assert.match((await r.json()).error, message, path);
        }
        const dpkg = await c.json<Page>("/api/inventory/software?filter.Manager=dpkg&limit=500");
        assert.ok(dpkg.total > 100 && dpkg.rows.every((r) => r.data.Manager === "dpkg"));
        const test = await c.json<Page>(
          "/api/inventory/software?filter.Manager=test&sort=Publisher&dir=desc",
        );
        assert.deepEqual(test.rows.map((r) => r.data.SoftwareName), ["xss-probe"]);
      },
    );

    await t.step("status: collectors with last runs and next runs, DCR source and id", async () => {
      const s = await c.json<{
        collectors: {
          name: string;
          enabled: boolean;
          lastRun: { status: string; counts: { items: number } };
        }[];
        config: { source: string; dcrId: string; rejected: number };
        hostname: string;
        health: { level: string };
      }>("/api/status");
      const sw = s.collectors.find((x) => x.name === "software")!;
      assert.equal(sw.lastRun.status, "baseline");
      assert.ok(sw.lastRun.counts.items > 100);
      assert.ok(s.collectors.find((x) => x.name === "files")?.enabled);
      assert.equal(s.config.source, "file");
      assert.equal(s.config.dcrId, w.config.id);
      assert.equal(s.config.rejected, 1);
      assert.equal(s.health.level, "ok");
    });

    await t.step(
      "status: the history chain's head, and its last verification once there is one",
      async () => {
        type Chain = { chain: { head: { seq: number }; verified: { ok: boolean; rows: number } | null } };
        await acknowledge(w.opened.db, { group: "run:1", reviewer: "tester" });
        const before = await c.json<Chain>("/api/status");
        const links = w.opened.raw.prepare(
          "SELECT (SELECT count(*) FROM changes) + (SELECT count(*) FROM acks) AS n",
        )
          .get() as { n: number };
        assert.ok(links.n > 0);
        assert.equal(before.chain.head.seq, links.n);
        assert.equal(before.chain.verified, null);
        await recordVerification(w.opened.db, verifyChain(w.opened.raw));
        const after = await c.json<Chain>("/api/status");
        assert.deepEqual([after.chain.verified?.ok, after.chain.verified?.rows], [true, links.n]);
      },
    );

    await t.step("config: the DCR in force and the rejected one with its problems", async () => {
      const cfg = await c.json<{
        current: { origin: string; valid: boolean };
        rejected: { errors: { path: string; message: string }[] }[];
      }>("/api/config");
      assert.equal(cfg.current.origin, join(w.dir, "dcr.json"));
      assert.equal(cfg.rejected.length, 1);
      assert.ok(cfg.rejected[0].errors.some((e) => e.path.includes("fileCollectionFrequency")));
    });
  } finally {
    await w.close();
  }
});

Deno.test("API: a file modified in the watched tree is a Modified change after scan now, with its diff", async () => {
  const w = await startWorld();
  const c = client(w);
  try {
    const path = join(w.tree, "etc", "app.conf");
    const before = await c.json<Page>(`/api/changes?type=files`);
    assert.equal(before.total, 0, "the first run is a baseline");
    await Deno.writeTextFile(path, "# app\nport = 9090\nmode = safe\nlog = info\n");
    const scan = await c.post("/api/scan", { collector: "files" });
    assert.equal(scan.status, 200, await scan.clone().text());
    assert.equal((await scan.json()).done, true);

    type Changes = {
      total: number;
      rows: {
        key: string;
        category: string;
        fields_changed: string[];
        previous: Record<string, string>;
        current: Record<string, string>;
      }[];
    };
    const ch = await c.json<Changes>("/api/changes?since=1h&type=files&category=Modified");
    // Which files changed which fields: what a failure needs to say (2 seen once under load, unnamed).
    assert.equal(ch.total, 1, JSON.stringify(ch.rows.map((r) => [r.key, r.fields_changed])));
    const m = ch.rows[0];
    assert.equal(m.key, path);
    assert.ok(m.fields_changed.includes("FileContentChecksum"));
    assert.match(m.previous.FileContentChecksum, SUM);

    const none = await c.json<Changes>("/api/changes?since=1h&type=software");
    assert.equal(none.total, 0, "type filter");
    const byText = await c.json<Changes>("/api/changes?q=APP.CO");
    assert.equal(byText.rows[0]?.key, path, "text search over keys, case-insensitive");
    assert.equal((await c.json<Changes>("/api/changes?q=no-such-thing")).total, 0);
    // A glob or a regex in the change list's box matches keys, as the inventory's box does.
    const glob = await c.json<Changes>(`/api/changes?q=${encodeURIComponent(`${w.tree}/**/*.conf`)}`);
    assert.deepEqual(glob.rows.map((r) => r.key), [path], "glob over keys");
    assert.equal((await c.json<Changes>(`/api/changes?q=${encodeURIComponent("*.json")}`)).total, 0, "glob");
    const regex = await c.json<Changes>(`/api/changes?q=${encodeURIComponent("re:app\\.con[f]$")}`);
    assert.deepEqual(regex.rows.map((r) => r.key), [path], "regex over keys");
    const bad = await c.get(`/api/changes?q=${encodeURIComponent("re:(a")}`);
    assert.equal(bad.status, 400, "a regex that cannot be read is refused, not searched as words");
    const exported = await c.get(
      `/api/export/changes?format=ndjson&q=${encodeURIComponent("re:app\\.conf$")}`,
    );
    assert.deepEqual(
      (await exported.text()).trim().split("\n").map((l) => JSON.parse(l).key),
      [path],
      "the export of a regex search holds what the list shows",
    );
    assert.equal((await c.json<Changes>(`/api/changes?since=${Date.now() + 60_000}`)).total, 0, "time range");

    const item = await c.json<{ history: unknown[]; contents: string[] }>(
      `/api/item?collector=files&key=${encodeURIComponent(path)}`,
    );
    assert.equal(item.history.length, 1);
    assert.deepEqual(
      [...item.contents].sort(),
      [m.previous.FileContentChecksum, m.current.FileContentChecksum].sort(),
    );

    const diff = await c.json<
      { added: number; removed: number; hunks: { lines: { op: string; text: string }[] }[] }
    >(
      `/api/diff?from=${m.previous.FileContentChecksum}&to=${m.current.FileContentChecksum}&key=${
        encodeURIComponent(path)
      }`,
    );
    assert.equal(diff.added, 1);
    assert.equal(diff.removed, 1);
    const lines = diff.hunks.flatMap((h) => h.lines.map((l) => l.op + l.text));
    assert.ok(lines.includes("-port = 8080") && lines.includes("+port = 9090"), lines.join("\n"));

    const key = encodeURIComponent(path);
    const content = await c.json<{ text: string }>(
      `/api/content/${m.current.FileContentChecksum}?key=${key}`,
    );
    assert.match(content.text, /port = 9090/);
    assert.equal((await c.get(`/api/content/${"0".repeat(64)}?key=${key}`)).status, 404);
    const keyless = await c.get(`/api/content/${m.current.FileContentChecksum}`);
    assert.equal(keyless.status, 400, "content is asked for as a version of a file");
    assert.match((await keyless.json()).error, /key is required/);
    const elsewhere = await c.get(`/api/content/${m.current.FileContentChecksum}?key=%2Fetc%2Fhostname`);
    assert.equal(elsewhere.status, 404, "not a version of that file");
    await elsewhere.body?.cancel();

    const hist = await c.json<{ points: { collector: string; category: string; n: number }[] }>(
      "/api/histogram?since=24h",
    );
    assert.deepEqual(hist.points.map((p) => [p.collector, p.category, p.n]), [["files", "Modified", 1]]);
    const counts = await c.json<Record<string, { changed: number; items: number }>>("/api/counts");
    assert.equal(counts.files.changed, 1);
    assert.equal(counts.files.items, 2);
  } finally {
    await w.close();
  }
});

Deno.test("page server: foreign Host refused, CSP on every response, writes need same origin and the token", async () => {
  const w = await startWorld();
  const c = client(w);
  try {
    for (
      const host of ["evil.example", `evil.example:${w.ui.listen.port}`, "127.0.0.1:1", "localhost.evil:80"]
    ) {
      const r = await w.ui.request("/api/status", { headers: { host, cookie: c.cookie } });
      assert.equal(r.status, 421, host);
      await r.body?.cancel();
    }
    const ok = await c.get("/api/status", {});
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-security-policy")!, /script-src 'self'/);
    assert.equal(ok.headers.get("x-content-type-options"), "nosniff");
    await ok.body?.cancel();
    const local = await w.ui.request("/", {
      headers: { host: `localhost:${w.ui.listen.port}`, cookie: c.cookie },
    });
    assert.equal(local.status, 200);
    const html = await local.text();
    assert.ok(html.includes(`content="${w.ui.token}"`), "the page carries this start's token");
    assert.ok(!/<script(?![^>]*\ssrc=)[^>]*>/.test(html), "no inline script");
    assert.match(local.headers.get("content-security-policy")!, /default-src 'none'/);
    const js = await c.get("/app.js");
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type")!, /javascript/);
    await js.body?.cancel();

    const refused: [string, Record<string, string>][] = [
      ["no token", { "x-ctagent-token": "" }],
      ["wrong token", { "x-ctagent-token": "0".repeat(48) }],
      ["foreign origin", { origin: "http://evil.example" }],
      ["cross-site fetch", { "sec-fetch-site": "cross-site" }],
    ];
    for (const [why, headers] of refused) {
      const r = await c.post("/api/scan", {}, headers);
      assert.equal(r.status, 403, why);
      await r.body?.cancel();
    }
    const put = await w.ui.request("/api/status", {
      method: "PUT",
      headers: { host: c.host, origin: c.origin, cookie: c.cookie },
    });
    assert.equal(put.status, 405);
    await put.body?.cancel();
    const scan = await c.post("/api/scan", {});
    assert.equal(scan.status, 200);
    assert.equal((await scan.json()).done, true);
    const unknown = await c.post("/api/scan", { collector: "registry" });
    assert.equal(
      unknown.status,
      400,
      `a collector that is off cannot be scanned: ${await unknown.clone().text()}`,
    );
    await unknown.body?.cancel();
  } finally {
    await w.close();
  }
});

Deno.test("API search: one query over every collector; key globs and regexes on the linear engine; facets", async () => {
  const w = await startWorld({ files: { "etc/sub/deep.conf": "x = 1\n" } });
  try {
    const c = client(w);
    const found = await c.json<{ pattern: string | null; groups: { collector: string; total: number }[] }>(
      "/api/search?q=mallory",
    );
    assert.equal(found.pattern, null);
    assert.deepEqual(found.groups.map((g) => g.collector), ["software"]);
    const glob = await c.json<{ pattern: string; groups: { collector: string; rows: { key: string }[] }[] }>(
      `/api/search?q=${encodeURIComponent(`${w.tree}/etc/**/*.conf`)}`,
    );
    assert.equal(glob.pattern, "glob");
    assert.deepEqual(glob.groups.map((g) => g.collector), ["files"]);
    assert.deepEqual(glob.groups[0].rows.map((r) => r.key.slice(w.tree.length)).sort(), [
      `/etc/${XSS}.conf`,
      "/etc/app.conf",
      "/etc/sub/deep.conf",
    ]);
    const re = await c.json<Page>(`/api/inventory/files?q=${encodeURIComponent("re:/sub/[a-z]+\\.conf$")}`);
    assert.deepEqual(re.rows.map((r) => r.key), [`${w.tree}/etc/sub/deep.conf`]);
    // What the engine cannot run in linear time is a 400 that says why.
    const bad = await c.get(`/api/inventory/files?q=${encodeURIComponent("re:(?<=a)b")}`);
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /lookbehind|not supported/);
    const facets = await c.json<{ facets: { field: string; values: { value: string; n: number }[] }[] }>(
      `/api/facets/files?q=${encodeURIComponent(`${w.tree}/etc/**`)}`,
    );
    const owner = facets.facets.find((f) => f.field === "Owner")!;
    assert.equal(owner.values.reduce((n, v) => n + v.n, 0), 3);
    assert.equal((await c.get("/api/facets/files?filter.Nope=1")).status, 400);
  } finally {
    await w.close();
  }
});
