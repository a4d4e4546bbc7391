// Chromium tests of readable changes: a text file's change said by its lines, timestamp-only changes folded
// away (and shown on demand), a run's mass change as one row that opens, sizes with their units.
import assert from "node:assert/strict";
import { join } from "node:path";
import { present, shot, skipNote, withPage } from "./testdata/browser.ts";

skipNote("ui/page_readable_test.ts");
const ignore = !present;

const squash = (s: string) => s.replace(/\s+/g, " ").trim();

Deno.test({
  name: "page: a modified text file reads '+1 −1 lines: port = 8080 → 99999'; a touched file is folded away",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      const conf = join(w.tree, "etc", "app.conf");
      await Deno.writeTextFile(conf, "# app\nport = 99999\nmode = safe\nlog = info\n");
      // Only its modification time moves.
      const touched = join(w.tree, "etc", `${"<img src=x onerror=alert(1)>"}.conf`);
      await Deno.utime(touched, new Date(Date.UTC(2020, 0, 1, 12)), new Date(Date.UTC(2020, 0, 1, 12)));
      await w.scheduler.scanNow("files");
      await page.goto(`${w.ui.url}#/changes?since=24h&type=files&category=Modified`);
      const row = page.locator(".changes li", { hasText: "app.conf" });
      await row.waitFor();
      const text = squash(await row.innerText());
      assert.match(text, /\+1 −1 line(s)?: port = 8080 → 99999/, text);
      // The checksum that moved with the text is said by the lines; the size keeps its unit.
      assert.doesNotMatch(text, /SHA-256/, text);
      assert.match(text, /Size: \d+ B → \d+ B/, text);
      // The touched file is not listed; the count line says one timestamp-only change is folded away.
      assert.equal(await page.locator(".changes li", { hasText: "onerror" }).count(), 0);
      const line = page.locator(".countline");
      await line.getByText(/1 timestamp-only folded away/).waitFor();
      await shot(page, "readable-lines");
      await line.getByRole("button", { name: "show them" }).click();
      const quiet = page.locator(".changes li", { hasText: "onerror" });
      await quiet.waitFor();
      assert.match(
        squash(await quiet.innerText()),
        /timestamp only ?Modified: .+ → 2020-01-01 12:00:00/,
        await quiet.innerText(),
      );
      // The drawer's history says the change by its lines too.
      await row.locator("button.change").click();
      await page.locator(".drawer").getByText(/port = 8080 → 99999/).first().waitFor();
    }),
});

Deno.test({
  name: "page: a run's mass change is one row ('12 files added under …/conf.d') that opens to its changes",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      const dir = join(w.tree, "etc", "conf.d");
      await Deno.mkdir(dir);
      for (let i = 0; i < 12; i++) await Deno.writeTextFile(join(dir, `site-${i}.conf`), `site = ${i}\n`);
      await w.scheduler.scanNow("files");
      await page.goto(`${w.ui.url}#/changes?since=24h&type=files`);
      const folded = page.locator(".changes li.folded");
      await folded.waitFor();
      assert.equal(await folded.count(), 1);
      assert.match(
        squash(await folded.innerText()),
        new RegExp(`12 files added under ${dir.replaceAll("/", "\\/")}`),
      );
      // The count is of changes, not rows (the cards count the same).
      assert.equal(
        squash(await page.locator(".countline").innerText()),
        "12 changes, all of them in 1 folded run",
      );
      // Its changes are not listed one by one until it opens.
      assert.equal(await page.locator(".changes li", { hasText: "site-3.conf" }).count(), 0);
      await folded.locator("button.change").first().click();
      await folded.locator(".folded-rows li", { hasText: "site-11.conf" }).waitFor();
      assert.equal(await folded.locator(".folded-rows li").count(), 12);
      await shot(page, "readable-folded");
      // A text search lists what matches, unfolded.
      await page.goto(`${w.ui.url}#/changes?since=24h&type=files&q=site-1`);
      await page.locator(".changes li.folded").waitFor({ state: "detached" });
      await page.locator(".changes li", { hasText: "site-10.conf" }).waitFor();
    }),
});
