import assert from "node:assert/strict";
import { compileSegment, globToRegex, overlapping, parseRule, segmentProblem } from "./match.ts";
import { expandWindowsPath } from "../../host/windows_path.ts";
import { PatternError } from "./pattern.ts";

Deno.test("parseRule() reads the Linux default /etc/.*.conf as an anchored regex on the last segment", () => {
  const r = parseRule("/etc/.*.conf", "linux");
  assert.equal(r.base, "/etc");
  assert.equal(r.kind, "regex");
  assert.ok(r.test("adduser.conf"));
  assert.ok(r.test(".hidden.conf"));
  assert.ok(!r.test("adduser.conf.bak"), "anchored at the end");
  assert.ok(!r.test("conf"));
});

Deno.test("parseRule() falls back to a glob when the segment is not a valid regex", () => {
  const r = parseRule("/etc/*.conf", "linux");
  assert.equal(r.kind, "glob");
  assert.ok(r.test("adduser.conf"));
  assert.ok(!r.test("adduser.confx"));
  assert.ok(!r.test("adduserXconf"), "the dot of a glob is literal");
  const q = parseRule("/var/log/syslog.?", "linux");
  assert.equal(q.kind, "regex"); // `syslog.?` is a valid regex: "syslog" plus an optional character
  assert.ok(q.test("syslog1") && q.test("syslog"));
  const b = parseRule("/etc/[", "linux");
  assert.equal(b.kind, "glob");
  assert.ok(b.test("[") && !b.test("a"));
});

Deno.test("parseRule() takes a segment without wildcards literally, dots included", () => {
  const r = parseRule("/etc/hosts.allow", "linux");
  assert.equal(r.kind, "literal");
  assert.equal(r.pattern, false);
  assert.ok(r.test("hosts.allow"));
  assert.ok(!r.test("hostsXallow"));
  assert.equal(parseRule("/etc/ssh/", "linux").segment, "ssh");
  assert.equal(parseRule("/", "linux").base, "/");
});

Deno.test("parseRule() rejects relative paths and warns about wildcards before the last segment", () => {
  assert.throws(() => parseRule("etc/*.conf", "linux"), RangeError);
  assert.match(parseRule("/etc/*/x.conf", "linux").warnings[0], /only the last path segment/);
  assert.deepEqual(parseRule("/etc/x.conf", "linux").warnings, []);
});

Deno.test("Windows rules: %VAR% expansion, backslashes, case-insensitive glob, *.* means everything", () => {
  const env = { WINDIR: "C:\\Windows" };
  const e = expandWindowsPath("%winDir%\\System32\\*.*", env);
  assert.deepEqual(e, { path: "C:\\Windows\\System32\\*.*", unresolved: [] });
  const r = parseRule(e.path, "windows");
  assert.equal(r.base, "C:\\Windows\\System32");
  assert.ok(r.test("kernel32.dll") && r.test("README"));
  const t = parseRule("c:/temp/*.TXT", "windows");
  assert.equal(t.base, "c:\\temp");
  assert.ok(t.test("a.txt") && !t.test("a.txt.bak"));
  assert.equal(parseRule("D:\\testing\\*", "windows").base, "D:\\testing");
  assert.equal(parseRule("E:\\test1", "windows").kind, "literal");
  assert.ok(parseRule("E:\\test1", "windows").test("TEST1"));
  assert.deepEqual(expandWindowsPath("%NOPE%\\x", env).unresolved, ["NOPE"]);
});

Deno.test("globToRegex() handles classes, negation and regex metacharacters", () => {
  const re = (g: string) => new RegExp(globToRegex(g));
  assert.ok(re("[!a]*.log").test("b.log") && !re("[!a]*.log").test("a.log"));
  assert.ok(re("a+b(1).txt").test("a+b(1).txt"));
  assert.ok(!re("a+b(1).txt").test("aab1.txt"));
  assert.equal(compileSegment("x", "linux").kind, "literal");
});

Deno.test("overlapping() pairs directories that are the same or nest, Windows ones whatever their case", () => {
  assert.deepEqual(overlapping(["/etc", "/usr/lib", "/usr", "/var/log"], "/"), [false, true, true, false]);
  assert.deepEqual(overlapping(["/etc", "/etc/"], "/"), [true, true]);
  assert.deepEqual(overlapping(["/", "/opt"], "/"), [true, true]);
  assert.deepEqual(
    overlapping(["/usr/lib", "/usr/lib64"], "/"),
    [false, false],
    "a shared prefix is no overlap",
  );
  assert.deepEqual(overlapping(["C:\\Windows", "c:\\windows\\System32", "C:\\Temp"], "\\", true), [
    true,
    true,
    false,
  ]);
  assert.deepEqual(overlapping(["C:\\Windows", "c:\\windows"], "\\"), [false, false], "case counts on Linux");
  assert.deepEqual(overlapping(["/only"], "/"), [false]);
});

Deno.test("compileSegment() matches on the linear-time engine: a ReDoS segment answers at once", () => {
  const r = parseRule("/srv/in/(a+)+$", "linux");
  assert.equal(r.kind, "regex");
  assert.ok(r.test("a".repeat(5000)));
  assert.ok(!r.test("a".repeat(5000) + "!"));
  // Windows globs ignore case by code point: `?` is one character, an emoji included.
  const w = parseRule("C:\\in\\?.TXT", "windows");
  assert.ok(w.test("\u{1F600}.txt") && w.test("a.Txt") && !w.test("ab.txt"));
});

Deno.test("compileSegment() reads a segment that only parses once wrapped as a glob, not as a half-anchored regex", () => {
  // `^(?:a)|(b)$` is a valid RegExp that would match any name starting with "a".
  const r = parseRule("/srv/a)|(b", "linux");
  assert.equal(r.kind, "glob");
  assert.ok(r.test("a)|(b"));
  assert.ok(!r.test("abc"));
});

Deno.test("segmentProblem() names what a last segment uses outside the subset; parseRule() throws it", () => {
  assert.equal(segmentProblem("/etc/.*.conf", "linux"), undefined);
  assert.equal(segmentProblem("/etc/*.conf", "linux"), undefined);
  assert.equal(segmentProblem("/etc/", "linux"), undefined);
  assert.match(
    segmentProblem("/srv/(a)\\1", "linux")!,
    /^backreference \\1 is not supported in the pattern "\(a\)\\\\1"/,
  );
  assert.match(segmentProblem("/srv/x(?=y)/", "linux")!, /lookahead/);
  assert.match(segmentProblem("/srv/[z-a]*", "linux")!, /range out of order/, "a glob with a broken class");
  assert.match(
    segmentProblem("%TEMP%\\[z-a].txt", "windows")!,
    /range out of order/,
    "before %VAR% expansion",
  );
  assert.equal(segmentProblem("%TEMP%/*.txt", "windows"), undefined);
  assert.throws(() => parseRule("/srv/(a)\\1", "linux"), PatternError);
});
