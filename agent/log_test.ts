// The log line: logfmt for grep, the journald form under systemd, one line per event, no secrets.
import assert from "node:assert/strict";
import { createLogger, formatLine, memoryLogger, redact, underJournald } from "./log.ts";

const at = new Date("2026-11-22T03:00:00.000Z");

Deno.test("formatLine() writes time, level, quoted msg and key=value fields, quoting only when needed", () => {
  assert.equal(
    formatLine("info", "run done", { collector: "software", items: 780, path: "/etc/a b.conf" }, at),
    'time=2026-11-22T03:00:00.000Z level=info msg="run done" collector=software items=780 path="/etc/a b.conf"',
  );
});

Deno.test("formatLine() for journald drops the time and leads with the syslog priority", () => {
  assert.equal(formatLine("warn", "slow", { ms: 12 }, at, true), '<4>level=warn msg="slow" ms=12');
  assert.match(formatLine("error", "x", {}, at, true), /^<3>/);
  assert.match(formatLine("debug", "x", {}, at, true), /^<7>/);
  assert.match(formatLine("info", "x", {}, at, true), /^<6>/);
});

Deno.test("a multi-line value stays on one line", () => {
  const line = formatLine("error", "failed", { error: new Error("first\nsecond") }, at);
  assert.equal(line.split("\n").length, 1);
  assert.match(line, /error="first\\nsecond"/);
});

Deno.test("secrets never reach the log: secret-named fields, SAS signatures, URL passwords", () => {
  const line = formatLine("info", "upload to https://acct.blob.core.windows.net/c/f?sv=2024&sig=abc%2Bdef", {
    password: "hunter2",
    sasToken: "sv=1&sig=zzz",
    Authorization: "Bearer eyJ",
    endpoint: "tcp://user:s3cret@forward.example:24224",
    key: "software:adduser", // an item's natural key is not a secret
  }, at);
  for (const secret of ["hunter2", "zzz", "eyJ", "s3cret", "abc%2Bdef"]) {
    assert.ok(!line.includes(secret), line);
  }
  assert.match(line, /sig=REDACTED/);
  assert.match(line, /key=software:adduser/);
  assert.equal(redact("https://h/p?a=1&token=t0k&b=2"), "https://h/p?a=1&token=REDACTED&b=2");
});

Deno.test("underJournald() follows systemd's JOURNAL_STREAM=dev:inode", () => {
  assert.equal(underJournald(() => "8:12345"), true);
  assert.equal(underJournald(() => undefined), false);
  assert.equal(underJournald(() => "garbage"), false);
  const lines: string[] = [];
  createLogger({ write: (l) => lines.push(l), journal: true }).child({ run: 1 }).info("hi");
  assert.equal(lines[0], '<6>level=info msg="hi" run=1');
});

Deno.test("levels below the minimum are dropped", () => {
  const log = memoryLogger("warn");
  log.info("no");
  log.warn("yes");
  assert.equal(log.lines.length, 1);
  assert.match(log.lines[0], /level=warn msg="yes"/);
});
