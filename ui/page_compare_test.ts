// Chromium test of comparing two moments: the net change from T1 to T2 (not every event between), and a file's
// diff from its version at T1 to its version at T2.
import assert from "node:assert/strict";
import { join } from "node:path";
import { present, shot, skipNote, withPage } from "./testdata/browser.ts";
import { XSS } from "./testdata/world.ts";

skipNote("ui/page_compare_test.ts");
const ignore = !present;

const squash = (s: string) => s.replace(/\s+/g, " ").trim();

Deno.test({
  name:
    "page: compare T1→T2 lists the net change (added, removed, modified once; reverted ones not) and a file's diff",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      const etc = join(w.tree, "etc");
      const scan = () => w.scheduler.scanNow("files");
      // Before T1: a change that is not part of the comparison.
      await Deno.writeTextFile(join(etc, "app.conf"), "# app\nport = 8081\nmode = safe\nlog = info\n");
      await Deno.writeTextFile(join(etc, "rev.conf"), "rev = 1\n");
      await scan();
      await new Promise((r) => setTimeout(r, 20));
      const t1 = Date.now();
      await Deno.writeTextFile(join(etc, "app.conf"), "# app\nport = 9999\nmode = safe\nlog = info\n");
      await Deno.writeTextFile(join(etc, "rev.conf"), "rev = 2\n");
      await Deno.writeTextFile(join(etc, "gone.conf"), "short-lived\n");
      await scan();
      await Deno.writeTextFile(join(etc, "app.conf"), "# app\nport = 7777\nmode = safe\nlog = info\n");
      await Deno.writeTextFile(join(etc, "rev.conf"), "rev = 1\n");
      await Deno.remove(join(etc, "gone.conf"));
      await Deno.writeTextFile(join(etc, "kept.conf"), "kept = yes\n");
      await Deno.remove(join(etc, `${XSS}.conf`));
      await scan();
      const t2 = Date.now();
      // Events between: app.conf twice, rev.conf twice, gone.conf added and removed, kept.conf, the removal.
      const between = Number(
        (w.opened.raw.prepare(
          "select count(*) as n from changes where at >= ? and at < ? and collector = 'files'",
        )
          .get(t1, t2 + 1) as { n: number }).n,
      );
      assert.equal(between, 8);

      // From the Changes view's range to the comparison.
      await page.goto(`${w.ui.url}#/changes?since=${t1}&until=${t2 + 1}&type=files`);
      await page.getByRole("link", { name: "Compare start and end" }).click();
      await page.waitForFunction(() => location.hash.startsWith("#/compare?"));
      const rows = page.locator(".compare li");
      await rows.first().waitFor();
      const line = squash(await page.locator(".countline").innerText());
      assert.match(line, /^3 net changes \(1 added, 1 removed, 1 modified\) from 8 changes/, line);
      const texts = (await rows.allInnerTexts()).map(squash);
      assert.equal(texts.length, 3, texts.join("\n"));
      const of = (name: string) => texts.find((t) => t.includes(name)) ?? "";
      assert.match(of("app.conf"), /Modified/);
      assert.match(of("app.conf"), /port = 8081 → 7777/, of("app.conf"));
      assert.match(of("app.conf"), /2 changes/);
      assert.match(of("kept.conf"), /Added/);
      assert.match(of("onerror"), /Removed/);
      assert.equal(of("rev.conf"), "", "modified and back: no net change");
      assert.equal(of("gone.conf"), "", "added and removed: no net change");
      await shot(page, "compare");
      // The file's diff from its version at T1 to its version at T2.
      await rows.filter({ hasText: "app.conf" }).getByRole("button", { name: "Diff" }).click();
      const diff = page.locator(".compare table.diff");
      await diff.waitFor();
      assert.ok((await diff.locator(".del").allInnerTexts()).some((t) => t.includes("port = 8081")));
      assert.ok((await diff.locator(".add").allInnerTexts()).some((t) => t.includes("port = 7777")));
      assert.ok(!(await diff.innerText()).includes("9999"), "not the version between");
      await shot(page, "compare-diff");
    }),
});
