// Chromium tests of the review loop (acknowledge with a note and a name, unreviewed counts and filter) and of
// exports; and the guards of the page's writes (session, write token, Origin).
import assert from "node:assert/strict";
import { join } from "node:path";
import { present, shot, skipNote, withPage } from "./testdata/browser.ts";
import { startWorld } from "./testdata/world.ts";
import { verifyChain } from "../db/chain.ts";

skipNote("ui/page_review_test.ts");
const ignore = !present;

Deno.test({
  name:
    "page: acknowledging a change with a note keeps it in the history's chain, off AMA's outbox, and out of 'unreviewed'",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await Deno.writeTextFile(join(w.tree, "etc", "app.conf"), "# app\nport = 9999\n");
      await w.scheduler.scanNow("files");
      const outbox = () =>
        Number((w.opened.raw.prepare("select count(*) as n from outbox").get() as { n: number }).n);
      const before = outbox();
      await page.goto(`${w.ui.url}#/overview`);
      const card = page.locator('.card[data-collector="files"] .unreviewed');
      await card.waitFor();
      assert.match(await card.innerText(), /^1 unreviewed$/);
      await card.click();
      await page.waitForFunction(() => location.hash.includes("reviewed=0"));
      const row = page.locator(".changes li", { hasText: "app.conf" });
      await row.waitFor();
      await row.locator("button.change").click();
      await page.locator(".drawer .tl-review").first().getByRole("button", { name: "Acknowledge…" }).click();
      await page.locator(".drawer .ack-form input[name=reviewer]").fill("Ada Reviewer");
      await page.locator(".drawer .ack-form textarea[name=note]").fill("port change planned in CHG-42");
      await shot(page, "review-ack-form");
      await page.locator(".drawer .ack-form button[type=submit]").click();
      await page.locator(".drawer .reviewed", { hasText: "Ada Reviewer" }).waitFor();
      assert.match(await page.locator(".drawer .reviewed").innerText(), /CHG-42/);
      await page.keyboard.press("Escape");
      // The unreviewed filter no longer lists it; the card counts none.
      await page.locator(".changes li", { hasText: "app.conf" }).waitFor({ state: "detached" });
      await page.goto(`${w.ui.url}#/overview`);
      await page.locator('.card[data-collector="files"]').waitFor();
      await page.waitForFunction(() => !document.querySelector('.card[data-collector="files"] .unreviewed'));
      const acks = w.opened.raw.prepare("select reviewer, note, change_id from acks").all();
      assert.deepEqual(acks.map((a) => ({ ...a })), [{
        reviewer: "Ada Reviewer",
        note: "port change planned in CHG-42",
        change_id: (w.opened.raw.prepare("select max(id) as id from changes").get() as { id: number }).id,
      }]);
      assert.equal(outbox(), before, "nothing for AMA");
      const chain = verifyChain(w.opened.raw);
      assert.equal(chain.ok, true, JSON.stringify(chain));
    }),
});

Deno.test({
  name: "page: a whole run acknowledged at once; the changes view exports what it lists as CSV and NDJSON",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      for (let i = 0; i < 5; i++) await Deno.writeTextFile(join(w.tree, "etc", `n${i}.conf`), `n = ${i}\n`);
      await w.scheduler.scanNow("files");
      await page.goto(`${w.ui.url}#/changes?since=24h&type=files`);
      await page.locator(".changes li", { hasText: "n4.conf" }).click();
      await page.locator(".drawer").getByRole("button", { name: "Acknowledge its whole run…" }).click();
      await page.locator(".drawer .ack-form input[name=reviewer]").fill("Bo");
      await page.locator(".drawer .ack-form button[type=submit]").click();
      await page.locator(".drawer .reviewed", { hasText: "Bo" }).waitFor();
      await page.keyboard.press("Escape");
      await page.locator(".changes li .reviewed").nth(4).waitFor();
      assert.equal(await page.locator(".changes li .reviewed").count(), 5);

      const [csv] = await Promise.all([
        page.waitForEvent("download"),
        page.locator(".exports a", { hasText: "CSV" }).click(),
      ]);
      const text = await Deno.readTextFile((await csv.path())!);
      const lines = text.trimEnd().split("\r\n");
      assert.equal(lines[0].split(",")[0], "id");
      assert.equal(lines.length - 1, 5, text);
      assert.ok(lines.slice(1).every((l) => l.includes(",Bo,")), "the review goes with each change");
      const [nd] = await Promise.all([
        page.waitForEvent("download"),
        page.locator(".exports a", { hasText: "NDJSON" }).click(),
      ]);
      const rows = (await Deno.readTextFile((await nd.path())!)).trimEnd().split("\n").map((l) =>
        JSON.parse(l)
      );
      assert.deepEqual(
        rows.map((r) => r.key.split("/").pop()).sort(),
        [0, 1, 2, 3, 4].map((i) => `n${i}.conf`),
      );
      assert.ok(rows.every((r) => r.category === "Added" && r.review.by === "Bo"));
    }),
});

Deno.test({
  name: "POST /api/acks needs the session, the page's write token and its own Origin",
  fn: async () => {
    const w = await startWorld();
    try {
      const id = (w.opened.raw.prepare("select count(*) as n from changes").get() as { n: number }).n;
      const origin = w.ui.url.replace(/\/$/, "");
      const host = new URL(w.ui.url).host;
      const cookie = `${w.ui.auth!.cookieName()}=${w.ui.auth!.newSession()}`;
      const ask = (headers: Record<string, string>) =>
        w.ui.request("/api/acks", {
          method: "POST",
          headers: { host, "content-type": "application/json", ...headers },
          body: JSON.stringify({ run: 1, reviewer: "x" }),
        });
      const good = { cookie, origin, "x-ctagent-token": w.ui.token };
      assert.equal((await ask({ origin, "x-ctagent-token": w.ui.token })).status, 401, "no session");
      assert.equal((await ask({ cookie, origin })).status, 403, "no write token");
      assert.equal((await ask({ ...good, origin: "http://evil.example" })).status, 403, "another origin");
      assert.equal((await ask({ ...good, "sec-fetch-site": "cross-site" })).status, 403, "cross-site");
      const ok = await ask(good);
      assert.equal(ok.status, 200, await ok.text());
      assert.equal(
        Number((w.opened.raw.prepare("select count(*) as n from acks").get() as { n: number }).n),
        1,
      );
      assert.ok(id >= 0);
    } finally {
      await w.close();
    }
  },
});
