import assert from "node:assert/strict";
import { collectorSettingsOf, configFileArgs } from "./agent_file.ts";

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

Deno.test("collectorSettingsOf() reads the collectors' own settings and names the file and key of a mistake", () => {
  const text = '{"no-ui": true, "collectors": {"users": {"enabled": false, "frequency": 600}, "tasks": {}}}';
  assert.deepEqual(collectorSettingsOf(text, "/x.json", ["users", "tasks"]), {
    users: { enabled: false, frequency: 600 },
    tasks: {},
  });
  assert.deepEqual(configFileArgs(text, "/x.json", flags), ["--no-ui"]);
  assert.deepEqual(collectorSettingsOf('{"no-ui": true}', "/x.json", ["users"]), {});
  assert.throws(
    () => collectorSettingsOf('{"collectors": {"nope": {}}}', "/x.json", ["users"]),
    /\/x.json: collectors.nope: no collector takes this setting \(known: users\)/,
  );
  assert.throws(
    () => collectorSettingsOf('{"collectors": {"users": {"frequency": 5}}}', "/x.json", ["users"]),
    /collectors.users.frequency: expected whole seconds from 10 to \d+, got 5/,
  );
  assert.throws(
    () => collectorSettingsOf('{"collectors": {"users": {"enabled": "no"}}}', "/x.json", ["users"]),
    /collectors.users.enabled: expected true or false, got "no"/,
  );
  assert.throws(
    () => collectorSettingsOf('{"collectors": {"users": {"colour": 1}}}', "/x.json", ["users"]),
    /collectors.users.colour: unknown key/,
  );
  assert.throws(() => collectorSettingsOf('{"collectors": []}', "/x.json", ["users"]), /expected an object/);
});
