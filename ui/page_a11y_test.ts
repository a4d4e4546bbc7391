// Every view of the page checked by axe-core in light and dark mode (no serious or critical violation), and
// screenshots of each at 1400, 800 and 390 px into test-results/ui/views/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import axe from "axe-core";
import type { Page } from "playwright-core";
import { present, SHOTS, skipNote, withPage } from "./testdata/browser.ts";

skipNote("ui/page_a11y_test.ts");

/** Each view: its address, what shows once its rows are there, and how to open it further (the drawer). */
const VIEWS: { name: string; hash: string; ready: string; open?: (page: Page) => Promise<void> }[] = [
  { name: "overview", hash: "#/overview", ready: ".chart svg .seg" },
  { name: "changes", hash: "#/changes?since=24h", ready: ".changes li" },
  { name: "software", hash: "#/software", ready: "table.grid tbody tr" },
  { name: "files", hash: "#/files", ready: "table.grid tbody tr" },
  { name: "services", hash: "#/services", ready: ".empty" },
  { name: "agent", hash: "#/agent", ready: "table.grid tbody tr" },
  {
    name: "dcr",
    hash: "#/dcr",
    ready: "details.rejected",
    open: (page) => page.locator("details.rejected summary").first().click(),
  },
  {
    name: "drawer",
    hash: "#/changes?since=24h&type=files&category=Modified",
    ready: ".changes li button.change",
    open: async (page) => {
      await page.locator(".changes li button.change").first().click();
      await page.locator(".drawer table.diff").waitFor();
    },
  },
  {
    name: "review-form",
    hash: "#/changes?since=24h&type=files&category=Modified",
    ready: ".changes li button.change",
    open: async (page) => {
      await page.locator(".changes li button.change").first().click();
      await page.locator(".drawer .tl-review").first().getByRole("button", { name: "Acknowledge…" }).click();
      await page.locator(".drawer .ack-form").waitFor();
    },
  },
];

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** axe-core's verdict on the page as it is: the serious and critical violations, and how many rules passed. */
async function check(page: Page): Promise<{ bad: Violation[]; passes: number }> {
  if (!await page.evaluate(() => "axe" in globalThis)) await page.evaluate(axe.source);
  const r = await page.evaluate(() =>
    // deno-lint-ignore no-explicit-any
    (globalThis as any).axe.run(document, { resultTypes: ["violations"] })
  ) as { violations: Violation[]; passes: unknown[] };
  return {
    bad: r.violations.filter((v) => v.impact === "serious" || v.impact === "critical"),
    passes: r.passes.length,
  };
}

const said = (vs: Violation[]) =>
  vs.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n` +
    v.nodes.slice(0, 4).map((n) => `  ${JSON.stringify(n.target)} ${n.failureSummary ?? ""}`).join("\n")
  ).join("\n");

Deno.test({
  name:
    "page: every view in light and dark mode has no serious axe-core violation; screenshots at 1400/800/390 px",
  ignore: !present,
  fn: () =>
    withPage(async (page, w) => {
      // A change with a content diff, so the overview chart, the change list and the drawer have something.
      await Deno.writeTextFile(join(w.tree, "etc", "app.conf"), "# app\nport = 9090\nmode = safe\n");
      await w.scheduler.scanNow("files");
      const dir = join(SHOTS, "views");
      mkdirSync(dir, { recursive: true });
      const found: string[] = [];
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const v of VIEWS) {
          await page.setViewportSize({ width: 1400, height: 900 });
          await page.goto("about:blank");
          await page.goto(`${w.ui.url}${v.hash}`);
          await page.locator(v.ready).first().waitFor();
          await v.open?.(page);
          const { bad, passes } = await check(page);
          assert.ok(passes > 10, `${v.name} ${scheme}: axe ran (${passes} rules passed)`);
          if (bad.length) found.push(`${v.name} (${scheme}):\n${said(bad)}`);
          for (const width of [1400, 800, 390]) {
            await page.setViewportSize({ width, height: 900 });
            await page.screenshot({ path: join(dir, `${v.name}-${width}-${scheme}.png`) });
          }
        }
      }
      assert.deepEqual(found, [], found.join("\n\n"));
    }),
});

Deno.test({
  name: "page: the axe-core check finds what it should (an unlabelled control, unreadable text)",
  ignore: !present,
  fn: () =>
    withPage(async (page, w) => {
      await page.goto(`${w.ui.url}#/overview`);
      await page.locator(".card").first().waitFor();
      assert.deepEqual((await check(page)).bad.map((v) => v.id), []);
      await page.evaluate(() => {
        const main = document.querySelector("main")!;
        main.prepend(document.createElement("input"));
        // Styled through the DOM: the page's CSP refuses style attributes written in markup.
        const faint = document.createElement("p");
        faint.textContent = "faint text";
        faint.style.color = "#ddd";
        faint.style.background = "#fff";
        main.prepend(faint);
      });
      const ids = (await check(page)).bad.map((v) => v.id).sort();
      assert.deepEqual(ids, ["color-contrast", "label"]);
    }),
});
