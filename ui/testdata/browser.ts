// What the page's Chromium tests share: launching Debian's chromium, signing in, watching for script errors,
// screenshots into test-results/ui/.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { startWorld, type World, type WorldOptions } from "./world.ts";
import { CHROMIUM, LAUNCH } from "./chromium.ts";

export const SHOTS = new URL("../../test-results/ui/", import.meta.url).pathname;
/** Whether Chromium is here: the browser tests say SKIPPED in their names' file when it is not. */
export const present = existsSync(CHROMIUM);

export function skipNote(file: string): void {
  if (!present) {
    console.warn(`SKIPPED ${file}: ${CHROMIUM} is absent (apt-get install chromium; CI installs it)`);
  }
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

/** Collects every script error, dialog (alert) or console error the page reports. */
export function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  return problems;
}

/** Signs the browser in through the token address, as an operator does with `ctagent page-url`. */
export async function signIn(page: Page, w: Pick<World, "ui">): Promise<void> {
  await page.goto(w.ui.signInUrl);
  assert.equal(page.url(), w.ui.url, "the sign-in redirect drops the token from the address");
}

export interface PageOptions extends WorldOptions {
  colorScheme?: "light" | "dark";
  width?: number;
  height?: number;
  timezoneId?: string;
}

/** A world of its own and a signed-in page on it; fails on any script error the page reports. */
export async function withPage(
  fn: (page: Page, w: World, problems: string[]) => Promise<void>,
  opts: PageOptions = {},
): Promise<void> {
  const w = await startWorld(opts);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch(LAUNCH);
    const page = await browser.newPage({
      viewport: { width: opts.width ?? 1400, height: opts.height ?? 900 },
      colorScheme: opts.colorScheme ?? "light",
      timezoneId: opts.timezoneId,
    });
    const problems = watch(page);
    if (!opts.noAuth) await signIn(page, w);
    await fn(page, w, problems);
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await w.close();
  }
}
