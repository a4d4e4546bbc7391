// Chromium tests of the page's bugs of issue 14 (one test per bug, each seen failing before its fix).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { Page } from "playwright-core";
import { implement } from "../agent/collectors/spec.ts";
import servicesSpec from "../agent/collectors/services/spec.ts";
import { present, shot, signIn, skipNote, watch, withPage } from "./testdata/browser.ts";
import { startAgentProcess } from "../test/agent_process.ts";
import { LAUNCH } from "./testdata/chromium.ts";
import { ensureUiAssets } from "../build/bundle_ui.ts";
import { startRegistryWorld } from "./testdata/world.ts";
import { indexChanges } from "../db/changes.ts";

skipNote("ui/page_bugs_test.ts");
const ignore = !present;
/** The synthetic SYSTEM hive of ../shared (bug 17's image): that test says SKIPPED when it is absent. */
const SYSTEM_HIVE = new URL("../../shared/fixtures/hives/synthetic/SYSTEM.hive", import.meta.url).pathname;
const systemHiveNote = existsSync(SYSTEM_HIVE)
  ? ""
  : " (SKIPPED: ../shared/fixtures/hives/synthetic is absent)";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A services collector that fails with `error`. */
const failingServices = (error: string) => implement(servicesSpec, () => Promise.reject(new Error(error)));
/** A services collector that finds nothing and says why. */
const noManager = (warning: string) =>
  implement(servicesSpec, () => Promise.resolve({ items: [], warnings: [warning] }));
const services = { enableServices: true, servicesSettings: { serviceCollectionFrequency: 3600 } };

async function cardText(page: Page, collector: string): Promise<string> {
  return (await page.locator(`.card[data-collector="${collector}"]`).innerText()).replace(/\s+/g, " ");
}

Deno.test({
  name: "page bug 1: the boot paragraph is gone once the page has rendered",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/overview`);
      await page.locator(".card").first().waitFor();
      assert.equal(await page.locator(".boot").count(), 0);
    }),
});

Deno.test({
  name:
    "page bug 2: a scheduled run's change appears on the overview within 2 s, without a reload or polling",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/overview`);
      await page.locator(".changes li").first().waitFor({ state: "attached" }).catch(() => {});
      await page.locator(`.card[data-collector="files"]`).waitFor();
      // Idle: nothing asks the server again and again (the page listens to one event stream).
      const asked: string[] = [];
      page.on("request", (r) => {
        if (r.url().includes("/api/") && !r.url().includes("/api/events")) asked.push(r.url());
      });
      await sleep(3000);
      assert.deepEqual(asked, [], "no requests while nothing happens");
      await Deno.writeTextFile(join(w.tree, "etc", "live.conf"), "live = yes\n");
      // A run the scheduler starts (not the page's Scan now button).
      await w.scheduler.scanNow("files");
      const committed = Date.now();
      await page.locator(".changes li", { hasText: "live.conf" }).waitFor({ timeout: 2000 });
      await page.waitForFunction(
        () =>
          /1 file changed/.test(document.querySelector('.card[data-collector="files"]')?.textContent ?? ""),
        undefined,
        { timeout: Math.max(100, 2000 - (Date.now() - committed)) },
      );
    }),
});

Deno.test({
  name: "page bug 3: cards count items, the change list counts changes exactly, and both say the same",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      const file = join(w.tree, "etc", "thrice.conf");
      await Deno.writeTextFile(file, "a\n");
      await w.scheduler.scanNow("files");
      await Deno.writeTextFile(file, "b\n");
      await w.scheduler.scanNow("files");
      await Deno.remove(file);
      await w.scheduler.scanNow("files");
      // Many changes: more than a page and more than the old counting cap.
      const tx = w.opened.raw;
      tx.exec("begin");
      const ins = tx.prepare(
        "insert into changes (run_id, at, collector, key, category, fields_changed, previous, current) values (1, ?, 'software', ?, 'Added', '[]', null, '{}')",
      );
      let first = 0, last = 0;
      for (let i = 0; i < 1500; i++) {
        last = Number(ins.run(Date.now() - 1000 - i, `bulk:${i}`).lastInsertRowid);
        first ||= last;
      }
      // What the changes' writer keeps for the page (db/changes.ts).
      indexChanges(tx, first, last);
      tx.exec("commit");
      // Rows written around a run send no event: load the page anew.
      await page.goto(`${w.ui.url}#/overview`);
      await page.reload();
      await page.locator('.card[data-collector="software"]', { hasText: "1,500" }).waitFor();
      const files = await cardText(page, "files");
      assert.match(files, /1 file changed in 24 h · 3 changes/, files);
      const software = await cardText(page, "software");
      assert.match(software, /1,500 packages changed in 24 h · 1,500 changes/, software);
      await page.goto(`${w.ui.url}#/changes?since=24h&type=software`);
      await page.locator(".countline", { hasText: "changes" }).waitFor();
      assert.equal((await page.locator(".countline").innerText()).trim(), "1,500 changes");
      assert.match(await page.locator(".pager").innerText(), /Page 1 of 15\b(?!\+)/);
      await page.goto(`${w.ui.url}#/changes?since=24h&type=files`);
      await page.locator(".changes li", { hasText: "thrice.conf" }).first().waitFor();
      assert.equal((await page.locator(".countline").innerText()).trim(), "3 changes");
    }),
});

Deno.test({
  name:
    "page bug 4: every time on the page is in one format with its zone, ISO fields too, and switches to UTC",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      const stamp = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? (EST|EDT)$/;
      await page.goto(`${w.ui.url}#/files`);
      await page.locator("table.grid tbody tr").first().waitFor();
      const modified = await page.locator("table.grid tbody tr td.time").first().innerText();
      assert.match(modified.trim(), stamp, "the Modified column");
      await page.locator("table.grid tbody tr", { hasText: "app.conf" }).click();
      await page.locator(".drawer dd").first().waitFor();
      for (const t of await page.locator(".drawer .kv time, .drawer .first-seen time").allInnerTexts()) {
        assert.match(t.trim(), stamp, `a drawer time: ${t}`);
      }
      const drawer = await page.locator(".drawer").innerText();
      assert.doesNotMatch(drawer, /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/, "no raw ISO time in the drawer");
      await page.keyboard.press("Escape");
      // The zone switch: UTC everywhere.
      await page.locator("select.zone").selectOption("utc");
      await page.locator("table.grid tbody tr td.time", { hasText: "UTC" }).first().waitFor();
      assert.match((await page.locator("table.grid tbody tr td.time").first().innerText()).trim(), / UTC$/);
      await shot(page, "bug4-times-utc");
    }, { timezoneId: "America/New_York" }),
});

Deno.test({
  name:
    "page bug 5: an item that never changed shows no change time, and sorting by Changed puts changed ones first",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/files`);
      const row = page.locator("table.grid tbody tr", { hasText: "app.conf" });
      await row.waitFor();
      assert.equal((await row.locator("td.changed").innerText()).trim(), "—");
      await Deno.writeTextFile(join(w.tree, "etc", "app.conf"), "# app\nport = 9\n");
      await w.scheduler.scanNow("files");
      await page.goto(`${w.ui.url}#/files?sort=changed_at&dir=desc`);
      const first = page.locator("table.grid tbody tr").first();
      await first.locator("td.changed time").waitFor();
      assert.match(await first.innerText(), /app\.conf/);
      assert.match(await first.locator("td.changed").innerText(), /s ago|just now/);
    }),
});

Deno.test({
  name: "page bug 6: no Registry on Linux: no card, nav item, type filter, legend or collector row",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/overview`);
      await page.locator(".card").first().waitFor();
      await page.locator(".collectors-panel tbody tr").first().waitFor();
      const text = await page.locator("body").innerText();
      assert.doesNotMatch(text, /Registry/);
      await page.goto(`${w.ui.url}#/changes`);
      await page.locator(".countline").waitFor();
      assert.equal(await page.getByRole("button", { name: "Registry" }).count(), 0);
      await page.goto(`${w.ui.url}#/agent`);
      await page.locator("table.grid tbody tr").first().waitFor();
      assert.doesNotMatch(await page.locator("body").innerText(), /Registry/);
    }),
});

Deno.test({
  name: "page bug 7: empty states say what happened: no match, a failed collector, one that found nothing",
  ignore,
  fn: async () => {
    await withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/files?errors=1`);
      const empty = page.locator(".empty");
      await empty.waitFor();
      assert.match(await empty.innerText(), /No unreadable files/);
      assert.doesNotMatch(await empty.innerText(), /has not run/);
      await page.goto(`${w.ui.url}#/services`);
      await page.locator(".empty, .errorbox").first().waitFor();
      const said = await page.locator(".view").innerText();
      assert.match(said, /failed/);
      assert.match(said, /systemctl exploded/);
      assert.doesNotMatch(said, /has not run/);
    }, { collectors: [failingServices("systemctl exploded")], dcr: services });
    await withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/services`);
      await page.locator(".empty").waitFor();
      const said = await page.locator(".view").innerText();
      assert.match(said, /found no services/);
      assert.match(said, /no service manager found here/);
      assert.doesNotMatch(said, /has not run/);
    }, { collectors: [noManager("no service manager found here")], dcr: services });
  },
});

Deno.test({
  name: "page bug 8: Scan now of a collector that fails says it failed, not that it finished",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/agent`);
      const row = page.locator("table.grid tbody tr", { hasText: "Services" });
      await row.getByRole("button", { name: "Scan now" }).click();
      const toast = page.locator(".toast");
      await toast.waitFor();
      assert.match(await toast.innerText(), /failed.*systemctl exploded/i);
      assert.doesNotMatch(await toast.innerText(), /finished/);
    }, { collectors: [failingServices("systemctl exploded")], dcr: services }),
});

Deno.test({
  name: "page bug 9: a link to an unknown item says so, with no Removed badge",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/files?item=${encodeURIComponent("files|/nope")}`);
      const drawer = page.locator(".drawer");
      await drawer.locator(".empty").waitFor();
      const text = await drawer.innerText();
      assert.match(text, /Nothing is known of \/nope/);
      assert.doesNotMatch(text, /Removed|No changes since first seen/);
    }),
});

Deno.test({
  name: "page bug 10: a file removed and added again keeps its first-seen time and its versions' dates",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      const file = join(w.tree, "etc", "again.conf");
      await Deno.writeTextFile(file, "first = 1\n");
      await w.scheduler.scanNow("files");
      const added = Date.now();
      await sleep(1100);
      await Deno.remove(file);
      await w.scheduler.scanNow("files");
      await sleep(1100);
      await Deno.writeTextFile(file, "second = 2\n");
      await w.scheduler.scanNow("files");
      const readded = Date.now();
      await page.goto(`${w.ui.url}#/files?item=${encodeURIComponent(`files|${file}`)}`);
      const first = page.locator(".drawer .first-seen time").first();
      await first.waitFor();
      const firstAt = Date.parse((await first.getAttribute("datetime"))!);
      assert.ok(firstAt <= added, `first seen ${new Date(firstAt).toISOString()} is the first addition`);
      const options = page.locator(".drawer .version-pick select").first().locator("option");
      const ats = await options.evaluateAll((os) => os.map((o) => Number(o.getAttribute("data-at"))));
      assert.equal(ats.length, 2);
      assert.ok(ats[0] <= added, "the first version dates from the first addition");
      assert.ok(ats[1] > added + 1000 && ats[1] <= readded, "the second from the re-addition");
    }),
});

Deno.test({
  name: "page bug 11: the collectors table fits at 1400 px with warnings, and long errors wrap",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/overview`);
      const panel = page.locator(".collectors-panel");
      await panel.locator("tbody tr").first().waitFor();
      const box = (await panel.boundingBox())!;
      for (const b of await panel.getByRole("button", { name: "Scan now" }).all()) {
        const bb = (await b.boundingBox())!;
        assert.ok(bb.x + bb.width <= box.x + box.width, "Scan now inside its panel");
      }
      const wide = await panel.locator("table").evaluate((t) => t.scrollWidth - t.parentElement!.clientWidth);
      assert.ok(wide <= 0, `the table fits its panel (${wide} px too wide)`);
      await page.goto(`${w.ui.url}#/agent`);
      const err = page.locator("td .err").first();
      await err.waitFor();
      const cut = await err.evaluate((e) => e.scrollWidth - e.clientWidth);
      assert.ok(cut <= 0, `the error wraps (${cut} px cut)`);
      await shot(page, "bug11-agent-errors");
    }, {
      collectors: [
        failingServices(`cannot read /${"very-long-directory-name/".repeat(12)}unit.service: EIO`),
      ],
      dcr: services,
    }),
});

Deno.test({
  name: "page bug 12: a run that is due says so, never '0 s ago'",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      // The browser's clock two hours ahead: every next run is then past due.
      await page.clock.setFixedTime(Date.now() + 2 * 3600_000);
      await page.goto(`${w.ui.url}#/agent`);
      const row = page.locator("table.grid tbody tr", { hasText: "Files" }).first();
      await row.waitFor();
      const text = await row.innerText();
      assert.doesNotMatch(text, /\bago\b.*\bago\b|in -|0 s ago/);
      assert.match(text, /due/);
    }),
});

Deno.test({
  name: "page bug 13: at 390 px no view is wider than the screen and Scan now, nav and search stay on it",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      for (const view of ["overview", "changes", "software", "files", "agent", "dcr"]) {
        await page.goto(`${w.ui.url}#/${view}`);
        await page.locator(".view").first().waitFor();
        await sleep(300);
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= 390, `${view}: document is ${width} px wide`);
        for (const sel of [".topbar button.primary", "nav.sidenav", "#search"]) {
          const el = page.locator(sel).first();
          if (!(await el.count())) continue;
          const b = (await el.boundingBox())!;
          assert.ok(
            b.x >= 0 && b.x + b.width <= 390 + 0.5,
            `${view}: ${sel} on screen (${b.x} + ${b.width})`,
          );
        }
        await shot(page, `bug13-${view}-390`);
      }
    }, {
      width: 390,
      height: 844,
      // A long health text, a long file name: what pushed the page wider than the screen.
      collectors: [failingServices("cannot list units")],
      dcr: services,
      files: { [`etc/${"a-rather-long-file-name-".repeat(4)}.conf`]: "x\n" },
    }),
});

/** WCAG contrast ratio of an element's text colour against its (first opaque) background. */
async function contrast(page: Page, selector: string): Promise<number> {
  return await page.locator(selector).first().evaluate((el) => {
    const rgb = (s: string) => (s.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) => {
      const f = (c: number) => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    let bg: number[] | undefined;
    for (let e: Element | null = el; e && !bg; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) bg = c.slice(0, 3);
    }
    const fg = lum(rgb(getComputedStyle(el).color));
    const b = lum(bg ?? [255, 255, 255]);
    return (Math.max(fg, b) + 0.05) / (Math.min(fg, b) + 0.05);
  });
}

Deno.test({
  name: "page bug 14: the drawer holds focus, chart bars take the keyboard, skip link and h1, dark contrast",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await Deno.writeTextFile(join(w.tree, "etc", "app.conf"), "# app\nport = 1\n");
      await w.scheduler.scanNow("files");
      await page.goto(`${w.ui.url}#/overview`);
      await page.locator(".card").first().waitFor();
      assert.equal(await page.locator("h1").count(), 1, "one h1");
      await page.keyboard.press("Tab");
      assert.match(await page.evaluate(() => document.activeElement?.textContent ?? ""), /Skip to content/);
      // Chart bars: reachable with Tab, Enter opens the changes of that bucket.
      const bar = page.locator(".chart .bar[tabindex='0']").last();
      await bar.focus();
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => location.hash.startsWith("#/changes"));
      // The drawer: focus moves in, stays in, and comes back on close.
      await page.goto(`${w.ui.url}#/files`);
      const row = page.locator("table.grid tbody tr", { hasText: "app.conf" }).locator("a");
      await row.focus();
      await page.keyboard.press("Enter");
      await page.locator(".drawer").waitFor();
      await page.waitForFunction(() => !!document.activeElement?.closest(".drawer"));
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press("Tab");
        assert.ok(await page.evaluate(() => !!document.activeElement?.closest(".drawer")), `Tab ${i} stays`);
      }
      await page.keyboard.press("Escape");
      await page.locator(".drawer").waitFor({ state: "detached" });
      assert.match(await page.evaluate(() => document.activeElement?.textContent ?? ""), /app\.conf/);
      // Dark mode contrast: text 4.5:1.
      await page.emulateMedia({ colorScheme: "dark" });
      await page.goto(`${w.ui.url}#/files`);
      await page.locator("table.grid tbody tr").first().waitFor();
      for (const sel of ["button.primary", ".sidenav a[aria-current=page]", ".ticon"]) {
        if (sel === ".ticon") {
          await page.goto(`${w.ui.url}#/changes?since=30d`);
          await page.locator(".ticon").first().waitFor();
        }
        const c = await contrast(page, sel);
        assert.ok(c >= 4.5, `${sel}: contrast ${c.toFixed(2)}:1`);
      }
    }),
});

Deno.test({
  name: "page bug 15: Back after a search goes to the view before the search, not past it",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/software`);
      await page.locator("table.grid tbody tr").first().waitFor();
      await page.goto(`${w.ui.url}#/files`);
      await page.locator("table.grid tbody tr").first().waitFor();
      await page.locator("#search").click();
      await page.keyboard.type("app", { delay: 50 });
      await page.waitForFunction(() => location.hash.includes("q=app"));
      await page.goBack();
      await page.waitForFunction(() => !location.hash.includes("q=app"));
      assert.match(page.url(), /#\/files$/);
      await page.goBack();
      await page.waitForFunction(() => location.hash.startsWith("#/software"));
    }),
});

Deno.test({
  name: "page bug 16: a file name with a backslash shows with one backslash",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/files`);
      const row = page.locator("table.grid tbody tr", { hasText: "slash.conf" });
      await row.waitFor();
      assert.match(await row.innerText(), /back\\slash\.conf/);
      assert.doesNotMatch(await row.innerText(), /back\\\\slash/);
      await row.click();
      await page.locator(".drawer dd").first().waitFor();
      assert.match(await page.locator(".drawer .item-title").innerText(), /back\\slash\.conf$/);
      assert.doesNotMatch(await page.locator(".drawer").innerText(), /back\\\\slash/);
    }, { files: { "etc/back\\slash.conf": "x = 1\n" } }),
});

Deno.test({
  name: "page bug 17: with --root on a Windows image the page names the image's computer" + systemHiveNote,
  ignore: ignore || !existsSync(SYSTEM_HIVE),
  sanitizeResources: false,
  fn: async () => {
    const shared = SYSTEM_HIVE;
    await ensureUiAssets();
    const dir = await Deno.makeTempDir({ prefix: "ctagent-image-" });
    const config = join(dir, "image", "Windows", "System32", "config");
    await Deno.mkdir(config, { recursive: true });
    await Deno.copyFile(shared, join(config, "SYSTEM"));
    await Deno.writeTextFile(
      join(dir, "dcr.json"),
      JSON.stringify({
        enableSoftware: false,
        enableServices: false,
        enableFiles: false,
        enableRegistry: false,
      }),
    );
    const agent = await startAgentProcess([
      "--root",
      join(dir, "image"),
      "--os",
      "windows",
      "--data-dir",
      join(dir, "data"),
      "--dcr",
      join(dir, "dcr.json"),
      "--no-ama",
      "--listen",
      "127.0.0.1:0",
    ]);
    const browser = await chromium.launch(LAUNCH);
    try {
      const page = await browser.newPage();
      const problems = watch(page);
      await page.goto(agent.signIn);
      await page.locator(".topbar .host b", { hasText: "FIXTURE-PC" }).waitFor({ timeout: 10_000 });
      assert.doesNotMatch(await page.locator(".topbar").innerText(), new RegExp(Deno.hostname()));
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await agent.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "page bug 18: a rejected DCR and a tracked path that does not exist show in the top status",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/overview`);
      const problems = page.locator(".topbar .top-problems");
      // The two problems come from two loads: wait until both are shown, not for the first.
      await page.locator(".topbar .top-problems", { hasText: "1 DCR rejected" }).waitFor({ timeout: 10_000 })
        .catch(() => {});
      const text = await problems.innerText();
      assert.match(text, /1 DCR rejected/);
      assert.match(text, /1 tracked path missing/);
      await problems.getByRole("link", { name: /tracked path missing/ }).click();
      await page.locator(".view", { hasText: "/nowhere/at/all.conf" }).waitFor();
    }, { rejectLater: true, fileInfo: [{ name: "gone", path: "/nowhere/at/all.conf" }] }),
});

Deno.test({
  name: "page bug 19: a registry change row shows the end of its key path",
  ignore,
  fn: async () => {
    const w = await startRegistryWorld();
    const browser = await chromium.launch(LAUNCH);
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const problems = watch(page);
      await signIn(page, w);
      await page.goto(`${w.ui.url}#/changes?since=24h&type=registry`);
      const row = page.locator(".changes li").first();
      await row.waitFor();
      assert.match(await row.locator(".leaf").innerText(), /TheValue/);
      // The key's end (its last key, the part that tells keys apart) is on screen; its start may be cut.
      const end = await row.locator(".dir").evaluate((e) => {
        const text = e.querySelector("span")?.firstChild ?? e.firstChild!;
        const r = document.createRange();
        const n = text.textContent!.length;
        r.setStart(text, n - "DeepestKey\\".length);
        r.setEnd(text, n);
        const [box, end] = [e.getBoundingClientRect(), r.getBoundingClientRect()];
        return { inside: end.left >= box.left - 1 && end.right <= box.right + 1, text: text.textContent };
      });
      assert.ok(end.inside, `the key's end is visible: ${end.text}`);
      assert.deepEqual(problems, []);
      await shot(page, "bug19-registry-changes");
    } finally {
      await browser.close();
      await w.close();
    }
  },
});

Deno.test({
  name: "page bug 20: Added and Removed rows label their summary and give sizes a unit",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await Deno.writeTextFile(join(w.tree, "etc", "sized.conf"), "x".repeat(5718));
      await w.scheduler.scanNow("files");
      await page.goto(`${w.ui.url}#/changes?since=24h&type=files`);
      const row = page.locator(".changes li", { hasText: "sized.conf" });
      await row.waitFor();
      assert.match(await row.innerText(), /Size 5\.6 KiB/);
      assert.doesNotMatch(await row.innerText(), /\b5718\b/);
    }),
});
