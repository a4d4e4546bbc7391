import assert from "node:assert/strict";
import { applyAssignments, emptySettings, parseUnitFile, parseUnitName, templateOf } from "./unit_file.ts";

Deno.test("parseUnitFile() skips comments, joins continuation lines and keeps sections", () => {
  const a = parseUnitFile(
    "# comment\n[Unit]\nDescription = My  service \n; another\n[Service]\nExecStart=/bin/x \\\n# ignored\n  --a \\\n  --b\nUser=me\n",
  );
  assert.deepEqual(a, [
    { section: "Unit", key: "Description", value: "My  service" },
    { section: "Service", key: "ExecStart", value: "/bin/x --a --b" },
    { section: "Service", key: "User", value: "me" },
  ]);
});

Deno.test("applyAssignments() resets lists on an empty assignment and lets later values win", () => {
  const s = applyAssignments(
    emptySettings(),
    parseUnitFile("[Service]\nExecStart=/a\nUser=one\n[Install]\nWantedBy=a.target b.target\n"),
  );
  applyAssignments(
    s,
    parseUnitFile("[Service]\nExecStart=\nExecStart=/b\nUser=two\n[Install]\nWantedBy=\nWantedBy=c.target\n"),
  );
  assert.deepEqual([s.execStart, s.user, s.wantedBy], [["/b"], "two", ["c.target"]]);
  const installOnly = applyAssignments(
    emptySettings(),
    parseUnitFile("[Unit]\nDescription=x\n[Install]\nAlias=y.service\n"),
    true,
  );
  assert.deepEqual([installOnly.description, installOnly.alias], ["", ["y.service"]]);
});

Deno.test("parseUnitName() tells plain, template and instance names and refuses invalid ones", () => {
  assert.equal(parseUnitName("ssh.service")?.kind, "plain");
  assert.equal(parseUnitName("getty@.service")?.kind, "template");
  assert.deepEqual(parseUnitName("getty@tty1.service"), {
    prefix: "getty",
    instance: "tty1",
    type: "service",
    kind: "instance",
  });
  assert.equal(parseUnitName("README"), null);
  assert.equal(parseUnitName("x.conf"), null);
  assert.equal(parseUnitName("a b.service"), null);
  assert.equal(parseUnitName("x".repeat(250) + ".service"), null);
  assert.equal(templateOf("getty@tty1.service"), "getty@.service");
  assert.equal(templateOf("ssh.service"), null);
});
