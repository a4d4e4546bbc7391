// The version stamp: what the bundle's first line sets, and the fallbacks when run from source.
import assert from "node:assert/strict";
import { buildInfo, versionLine } from "./version.ts";
import denoJson from "../deno.json" with { type: "json" };

Deno.test("buildInfo() takes the stamp's fields and falls back field by field", () => {
  assert.deepEqual(buildInfo({ version: "2.0.0", commit: "abc", date: "2026-01-01T00:00:00Z" }), {
    version: "2.0.0",
    commit: "abc",
    date: "2026-01-01T00:00:00Z",
  });
  assert.deepEqual(buildInfo(undefined), { version: denoJson.version, commit: "dev", date: "" });
  assert.deepEqual(buildInfo({ commit: 7 }), { version: denoJson.version, commit: "dev", date: "" });
});

Deno.test("versionLine() names version, commit, build date and the runtime", () => {
  const line = versionLine({ version: "2.0.0", commit: "abc", date: "2026-01-01T00:00:00Z" });
  assert.equal(line, `ctagent 2.0.0 (commit abc, built 2026-01-01T00:00:00Z; deno ${Deno.version.deno})`);
  assert.doesNotMatch(versionLine({ version: "1", commit: "dev", date: "" }), /built/);
});
