// Real-browser tests of the page (Debian chromium through playwright-core); screenshots go to test-results/ui/.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startWorld, XSS } from "./testdata/world.ts";
import type { Page } from "playwright-core";
import { present, shot, skipNote, withPage } from "./testdata/browser.ts";

skipNote("ui/browser_test.ts");

/**
 * Waits until the list is the answer to the search `q`: the URL holds it, the count line says "N of M" and the table
 * shows those N rows, each matching. Until then the page may show the list before the search, with the count line
 * already saying "of" (the whole list's count arrives first), or the answer to a prefix of `q` typed so far.
 */
function searched(page: Page, q: string) {
  return page.waitForFunction((q) => {
    const count = document.querySelector(".countline")?.textContent ?? "";
    const rows = [...document.querySelectorAll("table.grid tbody tr")];
    return new URLSearchParams(location.hash.split("?")[1]).get("q") === q && count.includes(" of ") &&
      Number(count.split(" of ")[0].replace(/\D/g, "")) === rows.length &&
      rows.every((r) => (r.textContent ?? "").toLowerCase().includes(q));
  }, q);
}

/** Opens the Software view and waits for its list; returns its rows. */
async function softwareList(page: Page, w: { ui: { url: string } }) {
  await page.goto(`${w.ui.url}#/software`);
  const rows = page.locator("table.grid tbody tr");
  await rows.first().waitFor();
  return rows;
}

Deno.test({
  name: "page: shows this machine's packages, search filters them, markup in machine text stays text",
  ignore: !present,
  fn: () =>
    withPage(async (page, w) => {
      const rows = await softwareList(page, w);
      const pkg = (await page.locator("table.grid tbody tr td.strong").first().innerText()).trim();
      assert.ok(pkg.length > 0);
      const count = await page.locator(".countline").innerText();
      const total = Number(count.replace(/[^\d]/g, ""));
      assert.ok(total > 100, count);
      assert.equal(await rows.count(), 100, "server-side paging, 100 rows a page");
      await shot(page, "software");

      // Search: '/' focuses the box; the list narrows to rows matching the term, "N of M packages".
      await page.keyboard.press("/");
      assert.equal(
        await page.evaluate(() => document.activeElement?.id),
        "search",
        "'/' focuses the search box",
      );
      await page.keyboard.type("python3");
      await searched(page, "python3");
      const n = await rows.count();
      assert.ok(n > 0 && n < 100, `${n} rows`);
      for (const text of await rows.allInnerTexts()) assert.match(text.toLowerCase(), /python3/);
      assert.match(page.url(), /q=python3/, "the search is in the URL");
      await shot(page, "software-search");

      // Machine text containing markup is shown as text; no element is created, no script runs.
      await page.fill("#search", "xss-probe");
      await searched(page, "xss-probe");
      assert.equal(await rows.count(), 1);
      assert.ok((await rows.first().innerText()).includes(XSS));
      assert.equal(await page.locator("table.grid img, .drawer img").count(), 0);
      await rows.first().click();
      await page.locator(".drawer dd", { hasText: XSS }).first().waitFor();
      assert.equal(await page.locator(".drawer img").count(), 0);
      await page.keyboard.press("Escape");
      await page.goto(`${w.ui.url}#/files`);
      await page.locator("table.grid tbody tr", { hasText: `${XSS}.conf` }).waitFor();
      assert.equal(await page.locator("img").count(), 0);
      await shot(page, "files");

      // Back button returns to the previous view with its state.
      await page.goBack();
      await page.waitForFunction(() => location.hash.startsWith("#/software"));
      assert.equal(await page.inputValue("#search"), "xss-probe");
    }),
});

Deno.test({
  name: "page: while a search loads, the count line does not count the list before it; a page turn keeps it",
  ignore: !present,
  fn: () =>
    withPage(async (page, w) => {
      const rows = await softwareList(page, w);
      const countline = page.locator(".countline");
      const busy = () => page.locator(".table-wrap").getAttribute("aria-busy");
      const whole = await countline.innerText();
      assert.match(whole, /^[\d,]+ packages$/);
      const inventory = (u: URL) => u.pathname === "/api/inventory/software";
      /** Holds back the answers to the requests `which` picks until `release` is called. */
      const hold = async (which: (u: URL) => boolean) => {
        let release!: () => void;
        const held = new Promise<void>((r) => release = r);
        let asked!: () => void;
        const requested = new Promise<void>((r) => asked = r);
        await page.route((u) => inventory(u) && which(u), async (route) => {
          asked();
          await held;
          await route.continue();
        });
        return { requested, release };
      };
      // What the answers that came did to the page is on screen by the next frames.
      const painted = () =>
        page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

      // The next page of the same list: the count line holds (the same items), the rows wait busy.
      const nextPage = await hold((u) => u.searchParams.get("offset") === "100");
      await page.getByRole("button", { name: "Next →" }).click();
      await nextPage.requested;
      await painted();
      assert.equal(await countline.innerText(), whole, "another page of the same items keeps the count");
      assert.equal(await busy(), "true");
      nextPage.release();
      await page.waitForFunction(() =>
        document.querySelector(".table-wrap")?.getAttribute("aria-busy") === null
      );

      // A search: its answer is held back; the whole list's count (limit=1) is not.
      const search = await hold((u) => u.searchParams.get("q") === "python3");
      const wholeCount = page.waitForResponse((r) => {
        const u = new URL(r.url());
        return inventory(u) && u.search === "?limit=1";
      });
      await page.fill("#search", "python3");
      await search.requested;
      await wholeCount;
      await painted();
      assert.equal(await countline.innerText(), "Loading…", "the count line waits for the search's answer");
      assert.equal(await rows.count(), 100, "the list before the search stays until the answer");
      assert.equal(await busy(), "true");
      await shot(page, "software-search-loading");
      search.release();
      await searched(page, "python3");
      assert.equal(await busy(), null);
    }),
});

Deno.test({
  name: "page: a file modified in the watched tree shows as Modified after Scan now, with its content diff",
  ignore: !present,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/overview`);
      await page.locator(".card").first().waitFor();
      await Deno.writeTextFile(
        join(w.tree, "etc", "app.conf"),
        "# app\nport = 9090\nmode = safe\nlog = debug\n",
      );
      await page.getByRole("button", { name: "Scan now" }).first().click();
      await page.locator(".toast", { hasText: "Scan finished" }).waitFor({ timeout: 30_000 });
      const row = page.locator(".changes li", { hasText: "app.conf" });
      await row.waitFor();
      assert.match(await row.innerText(), /Modified/);
      // A content change is said by its lines (issue 14, readable changes), not by the checksum that moved.
      assert.match(await row.innerText(), /\+2 −2 lines: port = 8080 → 9090/);
      await page.locator(".chart svg .seg").first().waitFor();
      await shot(page, "overview");

      await page.goto(`${w.ui.url}#/changes?since=24h&type=files&category=Modified`);
      await page.locator(".changes li", { hasText: "app.conf" }).waitFor();
      assert.equal(await page.locator(".changes li").count(), 1);
      await shot(page, "changes");
      await page.locator(".changes li button").first().click();
      await page.locator(".drawer table.diff").waitFor();
      const added = await page.locator(".drawer .diff .add").allInnerTexts();
      const removed = await page.locator(".drawer .diff .del").allInnerTexts();
      assert.ok(added.some((t) => t.includes("port = 9090")), added.join("|"));
      assert.ok(removed.some((t) => t.includes("port = 8080")), removed.join("|"));
      assert.match(page.url(), /item=files/, "the drawer is in the URL");
      await shot(page, "drawer-diff-split");
      await page.getByRole("button", { name: "Unified" }).click();
      await page.locator(".drawer table.diff.unified").waitFor();
      await shot(page, "drawer-diff-unified");
      await page.keyboard.press("Escape");
      await page.locator(".drawer").waitFor({ state: "detached" });

      await page.goto(`${w.ui.url}#/agent`);
      await page.locator("table.grid tbody tr", { hasText: "Software" }).first().waitFor();
      assert.match(await page.locator("body").innerText(), /History chain\s+not verified yet \(\d+ links?\)/);
      await shot(page, "agent");
      await page.goto(`${w.ui.url}#/dcr`);
      await page.locator("details.rejected").first().click();
      await page.locator(".problems li").first().waitFor();
      await shot(page, "dcr");
      await page.goto(`${w.ui.url}#/services`);
      await page.locator(".empty").waitFor();
      await shot(page, "services-empty");
    }),
});

Deno.test({
  name: "page: the dark color scheme follows the OS setting",
  ignore: !present,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/overview`);
      await page.locator(".card").first().waitFor();
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.notEqual(bg, "rgb(246, 247, 249)", "dark background");
      await shot(page, "overview-dark");
      await page.goto(`${w.ui.url}#/software`);
      await page.locator("table.grid tbody tr").first().waitFor();
      await shot(page, "software-dark");
      // Keyboard: "g c" goes to the changes.
      await page.locator("body").click({ position: { x: 5, y: 890 } });
      await page.keyboard.press("g");
      await page.keyboard.press("c");
      await page.waitForFunction(() => location.hash.startsWith("#/changes"));
    }, { colorScheme: "dark" }),
});

Deno.test({
  name:
    "page: without a session the browser gets the sign-in page; the token address signs in and leaves the bar",
  ignore: !present,
  fn: () =>
    withPage(async (page, w, problems) => {
      // Leave the signed-in page first: it would go to the sign-in page by itself once its cookie is gone.
      await page.goto("about:blank");
      await page.context().clearCookies();
      const r = await page.goto(`${w.ui.url}#/software`);
      assert.equal(r?.status(), 401);
      assert.match(await page.locator("body").innerText(), /ctagent page-url/);
      // The browser reports the 401 of the page itself (the sign-in page asks for nothing else): expected here.
      assert.ok(problems.every((p) => /status of 401/.test(p)), problems.join("\n"));
      problems.length = 0;
      await page.goto(`${w.ui.signInUrl}#/software`);
      await page.locator("table.grid tbody tr").first().waitFor();
      assert.equal(page.url(), `${w.ui.url}#/software`, "the token is gone, the view kept");
      const [cookie] = await page.context().cookies();
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, "Strict");
      assert.equal(await page.locator(".no-auth").count(), 0, "no warning banner with sign-in");
    }),
});

Deno.test({
  name: "page: --no-auth shows a warning banner on every view",
  ignore: !present,
  fn: () =>
    withPage(async (page, w) => {
      for (const view of ["overview", "software", "agent"]) {
        await page.goto(`${w.ui.url}#/${view}`);
        await page.locator(".no-auth").waitFor();
        assert.match(await page.locator(".no-auth").innerText(), /No sign-in \(--no-auth\)/);
      }
      await shot(page, "no-auth-banner");
    }, { noAuth: true }),
});

Deno.test({
  name: "page: narrow screen",
  ignore: !present,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/overview`);
      await page.locator(".card").first().waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      assert.ok(overflow <= 0, `no horizontal scroll (${overflow}px)`);
      await shot(page, "overview-narrow");
      await page.goto(`${w.ui.url}#/changes?since=30d`);
      await page.locator(".countline").waitFor();
      await shot(page, "changes-narrow");
    }, { width: 390 }),
});

Deno.test({
  name: "page: the drawer says why a file's content was not captured (over maxContentsReturnable, binary)",
  ignore: !present,
  fn: () =>
    withPage(async (page, w) => {
      for (
        const [name, why] of [
          ["big.log", "Content not captured: 8.3 MiB > limit of 4.77 MiB (maxContentsReturnable)."],
          ["blob.bin", "Content not captured: binary (a NUL byte, or not UTF-8): only text is captured."],
        ]
      ) {
        await page.goto(`${w.ui.url}#/files?item=${encodeURIComponent(`files|${w.tree}/etc/${name}`)}`);
        await page.locator(".drawer .not-captured").waitFor();
        assert.equal((await page.locator(".drawer .not-captured").innerText()).trim(), why);
        assert.doesNotMatch(
          await page.locator(".drawer").innerText(),
          /binary, too large, or capture is off/,
        );
      }
      await shot(page, "drawer-not-captured");
    }, { files: { "etc/big.log": "x".repeat(8_700_000), "etc/blob.bin": "\u0000ELF" } }),
});

Deno.test({
  name: "page server: a request with a foreign Host is refused on the wire (DNS rebinding)",
  fn: async () => {
    const w = await startWorld();
    try {
      const cookie = `${w.ui.auth!.cookieName()}=${w.ui.auth!.newSession()}`;
      const ask = async (host: string) => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: w.ui.listen.port });
        await conn.write(
          new TextEncoder().encode(
            `GET /api/status HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`,
          ),
        );
        let text = "";
        const buf = new Uint8Array(65536);
        for (let n; (n = await conn.read(buf)) !== null;) {
          text += new TextDecoder().decode(buf.subarray(0, n));
        }
        conn.close();
        return text;
      };
      assert.match(await ask(`rebind.example:${w.ui.listen.port}`), /^HTTP\/1\.1 421/);
      assert.match(await ask(`127.0.0.1:${w.ui.listen.port}`), /^HTTP\/1\.1 200/);
    } finally {
      await w.close();
    }
  },
});

Deno.test({
  name:
    "page: a change realtime saw says who made it, in the list and the drawer; the Agent view shows realtime",
  ignore: !present,
  fn: () =>
    withPage(async (page, w) => {
      const path = join(w.tree, "etc", "app.conf");
      await Deno.writeTextFile(path, "# app\nport = 7070\n");
      // A realtime run of that file, as the agent makes it when fanotify names the writer.
      const { runCollector } = await import("../agent/pipeline/run.ts");
      const { filesCollector } = await import("../agent/collectors/files/mod.ts");
      const { liveHost } = await import("../agent/host/mod.ts");
      const { memoryLogger } = await import("../agent/log.ts");
      const { setState } = await import("../db/state.ts");
      // The realtime state first: the page refreshes its status when it sees the run below (Server-Sent Events),
      // and nothing tells it when a state row alone changes, so a state stored after the run could be missed.
      await setState(
        w.opened.db,
        "realtime",
        JSON.stringify({
          on: true,
          backend: "fanotify",
          attribution: true,
          tried: [],
          watches: 12,
          events: 3,
          overflows: 0,
          at: Date.now(),
          collectors: [{
            name: "files",
            modes: ["fanotify"],
            targets: 1,
            unwatched: [],
            runs: 1,
            changes: 1,
            missed: 0,
            fallbacks: 0,
          }],
        }),
      );
      await runCollector({
        db: w.opened.db,
        raw: w.opened.raw,
        collector: filesCollector(),
        settings: w.config.settings,
        host: liveHost(),
        log: memoryLogger(),
        signal: new AbortController().signal,
        scope: { keys: [path], prefixes: [] },
        origin: () => ({
          DetectedBy: "fanotify",
          ProcessId: "4242",
          ProcessName: "vim",
          ProcessCommandLine: "vim /etc/nginx/nginx.conf",
          UserName: "alice",
        }),
      });
      const said = "changed by vim /etc/nginx/nginx.conf (pid 4242, user alice)";
      await page.goto(`${w.ui.url}#/changes?since=24h&type=files`);
      const row = page.locator(".changes li", { hasText: "app.conf" });
      await row.waitFor();
      assert.equal(await row.locator(".by").innerText(), said);
      await row.locator("button").click();
      await page.locator(".drawer .timeline .by").first().waitFor();
      assert.equal(await page.locator(".drawer .timeline .by").first().innerText(), said);
      await shot(page, "drawer-changed-by");
      await page.keyboard.press("Escape");
      await page.goto(`${w.ui.url}#/agent`);
      const rt = page.locator("section.panel", { has: page.locator("h2", { hasText: /^Realtime$/ }) });
      await rt.locator("tbody tr", { hasText: "Files" }).waitFor();
      assert.match(await rt.innerText(), /fanotify, names the process and user of each change/);
      assert.match(
        await rt.locator("tbody tr", { hasText: "Files" }).innerText(),
        /fanotify\s+1\s+1\s+0\s+0/,
      );
    }),
});
