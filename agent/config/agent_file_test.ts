import assert from "node:assert/strict";
import { configFileArgs } from "./agent_file.ts";

const flags = {
  forward: { type: "string" },
  "no-ui": { type: "boolean" },
  "ama-config": { type: "string", multiple: true },
  "retention-days": { type: "string" },
  once: { type: "boolean" },
} as const;

Deno.test("configFileArgs() turns the file's settings into the flags they stand for", () => {
  const args = configFileArgs(
    '{"forward": "tcp://127.0.0.1:24224", "no-ui": true, "ama-config": ["@a", "@b"], "retention-days": 30}',
    "/etc/ctagent/ctagent.json",
    flags,
  );
  assert.deepEqual(args, [
    "--forward",
    "tcp://127.0.0.1:24224",
    "--no-ui",
    "--ama-config",
    "@a",
    "--ama-config",
    "@b",
    "--retention-days",
    "30",
  ]);
  assert.deepEqual(configFileArgs('{"no-ui": false}', "f", flags), []);
});

Deno.test("configFileArgs() names the file and key of anything it cannot take", () => {
  assert.throws(() => configFileArgs("{nope", "/x.json", flags), /Cannot parse \/x.json: not valid JSON/);
  assert.throws(() => configFileArgs("[]", "/x.json", flags), /expected a JSON object/);
  assert.throws(
    () => configFileArgs('{"colour": 1}', "/x.json", flags),
    /"colour" is not a setting the file can hold/,
  );
  assert.throws(() => configFileArgs('{"once": true}', "/x.json", flags), /"once" is not a setting/);
  assert.throws(
    () => configFileArgs('{"no-ui": "yes"}', "/x.json", flags),
    /\/x.json: no-ui: expected true or false, got "yes"/,
  );
  assert.throws(
    () => configFileArgs('{"forward": {"host": 1}}', "/x.json", flags),
    /forward: expected a string/,
  );
});

Deno.test("parseCli() takes --forward from a --config file, and the command line's --forward over it", async () => {
  const { parseCli } = await import("../cli.ts");
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/c.json`, '{"forward": "tcp://127.0.0.1:24224", "no-ui": true}');
  const fromFile = parseCli(["--config", `${dir}/c.json`]);
  assert.equal(fromFile.ama.forward, "tcp://127.0.0.1:24224");
  assert.equal(fromFile.ui, false);
  assert.equal(
    parseCli([`--config=${dir}/c.json`, "--forward", "unix:///run/fluent.sock"]).ama.forward,
    "unix:///run/fluent.sock",
  );
  await Deno.remove(dir, { recursive: true });
});
