// The unit text: quoting of ExecStart words and Environment= lines, and the settings the service relies on.
import assert from "node:assert/strict";
import { quoteEnvironment, quoteExecWord, systemdUnit, unitExecStart } from "./systemd.ts";

Deno.test("quoteExecWord() doubles specifiers and expansions, quotes words with spaces or quotes", () => {
  assert.equal(quoteExecWord("/usr/local/bin/ctagent"), "/usr/local/bin/ctagent");
  assert.equal(quoteExecWord("50%"), "50%%");
  assert.equal(quoteExecWord("$HOME"), "$$HOME");
  assert.equal(quoteExecWord("/srv/my dcr.json"), '"/srv/my dcr.json"');
  assert.equal(quoteExecWord('say "hi"'), '"say \\"hi\\""');
  assert.equal(quoteExecWord("a\\b"), '"a\\\\b"');
  assert.equal(quoteExecWord(""), '""');
  assert.throws(() => quoteExecWord("a\nb"), /control character/);
});

Deno.test("quoteEnvironment() keeps $ literal and rejects names that are not variables", () => {
  assert.equal(quoteEnvironment("DENO_DIR", "/var/cache/ctagent"), "DENO_DIR=/var/cache/ctagent");
  assert.equal(quoteEnvironment("X", "a $b %c"), '"X=a $b %%c"');
  assert.throws(() => quoteEnvironment("1X", "v"), /Not an environment variable name: "1X"/);
});

Deno.test("systemdUnit() restarts on failure, keeps a state directory and leaves the file system readable", () => {
  const unit = systemdUnit({
    execStart: ["/usr/local/bin/ctagent", "--data-dir", "/var/lib/ctagent"],
    version: "0.1.0",
  });
  const settings = new Map(
    unit.split("\n").filter((l) => /^\w+=/.test(l)).map((l) => l.split(/=(.*)/s) as [string, string]),
  );
  assert.equal(settings.get("Restart"), "on-failure");
  assert.equal(settings.get("StateDirectory"), "ctagent");
  assert.equal(settings.get("ProtectSystem"), "strict");
  assert.equal(
    settings.get("ProtectHome"),
    "read-only",
    "=yes would hide /home and /root from the file collector",
  );
  assert.equal(settings.get("NoNewPrivileges"), "yes");
  assert.equal(settings.get("CapabilityBoundingSet"), "CAP_DAC_READ_SEARCH");
  for (const hides of ["PrivateTmp", "InaccessiblePaths", "TemporaryFileSystem", "ProtectProc"]) {
    assert.ok(!settings.has(hides), `${hides} would hide paths a DCR may track`);
  }
  assert.equal(unitExecStart(unit), "/usr/local/bin/ctagent --data-dir /var/lib/ctagent");
  assert.throws(
    () => systemdUnit({ execStart: ["ctagent"], version: "0" }),
    /absolute program path, got "ctagent"/,
  );
});
