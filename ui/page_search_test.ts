// Chromium tests of search everywhere: one box across all types and field values, path globs and regexes on
// the linear-time pattern engine (in the inventory's box and the change list's), facets with counts on
// inventory views.
import assert from "node:assert/strict";
import { join } from "node:path";
import { present, shot, skipNote, withPage } from "./testdata/browser.ts";

skipNote("ui/page_search_test.ts");
const ignore = !present;

const squash = (s: string) => s.replace(/\s+/g, " ").trim();

Deno.test({
  name: "page: one search box finds a value across types (a package's publisher, a file's name) and opens it",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/overview`);
      const box = page.getByRole("searchbox", { name: "Search everything" });
      await box.fill("mallory");
      await box.press("Enter");
      await page.waitForFunction(() => location.hash.startsWith("#/search?q=mallory"));
      const software = page.locator(".search-group", { hasText: "Software" });
      await software.locator("li", { hasText: "xss-probe" }).waitFor();
      const files = page.locator(".search-group", { hasText: "Files" });
      await files.locator("li", { hasText: "mallory-notes.txt" }).waitFor();
      await shot(page, "search-everywhere");
      // Each group links to its whole list, filtered the same.
      assert.match(
        (await files.getByRole("link", { name: /all/i }).getAttribute("href"))!,
        /#\/files\?q=mallory/,
      );
      await files.locator("li", { hasText: "mallory-notes.txt" }).getByRole("button").click();
      await page.locator(".drawer").getByText("mallory-notes.txt").first().waitFor();
    }, { files: { "notes/mallory-notes.txt": "hello\n" } }),
});

Deno.test({
  name:
    "page: a path glob (/etc/**/*.conf) and a regex (re:…) list the files they match; a backtracking regex is refused",
  ignore,
  fn: () =>
    withPage(async (page, w, problems) => {
      const shown = async () => {
        await page.locator(".countline", { hasNotText: "Loading" }).waitFor();
        return (await page.locator("table.grid tbody tr td:first-child").allInnerTexts()).map((t) =>
          t.replace(/^.*\//, "").trim()
        ).sort();
      };
      const open = async (q: string) => {
        await page.goto(`${w.ui.url}#/files?${new URLSearchParams({ q })}`);
        await page.waitForFunction((q) => new URLSearchParams(location.hash.split("?")[1]).get("q") === q, q);
      };
      await open(`${w.tree}/etc/**/*.conf`);
      await page.locator("table.grid tbody tr", { hasText: "deep.conf" }).waitFor();
      assert.deepEqual(await shown(), ["<img src=x onerror=alert(1)>.conf", "app.conf", "deep.conf"]);
      // `*` stays within a folder.
      await open(`${w.tree}/etc/*.conf`);
      await page.locator("table.grid tbody tr", { hasText: "deep.conf" }).waitFor({ state: "detached" });
      assert.deepEqual(await shown(), ["<img src=x onerror=alert(1)>.conf", "app.conf"]);
      // A glob with no folder matches names anywhere.
      await open("*.txt");
      await page.locator("table.grid tbody tr", { hasText: "readme.txt" }).waitFor();
      assert.deepEqual(await shown(), ["readme.txt"]);
      await open("re:/(app|deep)\\.conf$");
      await page.locator("table.grid tbody tr", { hasText: "deep.conf" }).waitFor();
      assert.deepEqual(await shown(), ["app.conf", "deep.conf"]);
      await shot(page, "search-regex");
      // A backreference needs backtracking: refused, saying why.
      await open("re:(a)\\1");
      const err = page.locator(".errorbox");
      await err.waitFor();
      assert.match(await err.innerText(), /backreference/);
      // The browser logs the refusal (a 400 of the list and of its facets); nothing else went wrong.
      const refused = problems.filter((p) => /status of 400/.test(p));
      assert.ok(refused.length >= 1 && refused.length <= 2, problems.join("\n"));
      problems.splice(0, problems.length, ...problems.filter((p) => !refused.includes(p)));
    }, { files: { "etc/sub/deep.conf": "x = 1\n", "readme.txt": "read me\n" } }),
});

Deno.test({
  name:
    "page: facets count the values of an inventory's fields; choosing one filters the list and the other counts",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await Deno.chmod(join(w.tree, "etc", "app.conf"), 0o600);
      await w.scheduler.scanNow("files");
      await page.goto(`${w.ui.url}#/files`);
      const facet = page.locator(".facets select[name='Mode']");
      await facet.waitFor();
      const options = squash((await facet.locator("option").allInnerTexts()).join(" | "));
      // Every mode of the tree with how many files have it (the tree holds 2 files; 1 is 0600).
      assert.match(options, /-rw------- \(1\)|0?600 \(1\)/, options);
      const value = await facet.locator("option", { hasText: /\(1\)/ }).first().getAttribute("value");
      await facet.selectOption(value!);
      await page.waitForFunction(() => location.hash.includes("filter.Mode="));
      await page.locator("table.grid tbody tr", { hasText: "app.conf" }).waitFor();
      await page.locator(".countline", { hasText: /^1 of / }).waitFor();
      assert.equal(await page.locator("table.grid tbody tr").count(), 1);
      await shot(page, "search-facets");
      // The export takes the same filter.
      assert.match(
        (await page.locator(".exports a", { hasText: "CSV" }).getAttribute("href"))!,
        /filter\.Mode=/,
      );
    }),
});

Deno.test({
  name:
    "page: the change list's own box takes a path glob and a regex too, and lists only the changes they match",
  ignore,
  fn: () =>
    withPage(async (page, w) => {
      await Deno.writeTextFile(join(w.tree, "etc", "app.conf"), "# app\nport = 9999\n");
      await Deno.writeTextFile(join(w.tree, "etc", "sub", "deep.conf"), "x = 2\n");
      await Deno.writeTextFile(join(w.tree, "readme.txt"), "read me again\n");
      await w.scheduler.scanNow("files");
      const listed = async (q: string, first: string) => {
        await page.goto(`${w.ui.url}#/changes?${new URLSearchParams({ q })}`);
        await page.locator(".changes li", { hasText: first }).first().waitFor();
        await page.locator(".countline", { hasNotText: "Loading" }).waitFor();
        return (await page.locator(".changes li .name .leaf").allInnerTexts()).map((t) => squash(t)).sort();
      };
      assert.deepEqual(await listed(`${w.tree}/etc/**/*.conf`, "deep.conf"), ["app.conf", "deep.conf"]);
      assert.deepEqual(await listed("*.txt", "readme.txt"), ["readme.txt"]);
      assert.deepEqual(await listed("re:sub/deep\\.conf$", "deep.conf"), ["deep.conf"]);
    }, { files: { "etc/sub/deep.conf": "x = 1\n", "readme.txt": "read me\n" } }),
});
