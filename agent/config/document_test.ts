import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chooseEntry, parseDcrDocument } from "./document.ts";
import { defaultExtensionSettings } from "./defaults.ts";

const SHARED = new URL("../../../shared/fixtures/dcr/", import.meta.url);
const haveShared = existsSync(SHARED);
const sharedNote = haveShared ? "" : " (SKIPPED: ../shared/fixtures/dcr is absent)";
const shared = (name: string) => Deno.readTextFileSync(new URL(name, SHARED));

Deno.test({
  name: "parseDcrDocument() accepts the Microsoft sample DCR resource with both OS entries" + sharedNote,
  ignore: !haveShared,
  fn() {
    const doc = parseDcrDocument(shared("dcr_resource_both_os.json"), "linux");
    assert.equal(doc.form, "resource");
    assert.deepEqual(doc.problems, []);
    assert.deepEqual(doc.entries.map((e) => [e.os, e.id, e.problems.length]), [
      ["windows", "CTDataSource-Windows", 0],
      ["linux", "CTDataSource-Linux", 0],
    ]);
    const win = chooseEntry(doc, "windows").entry!;
    assert.equal(win.settings!.registrySettings.registryInfo.length, 17);
    assert.equal(win.settings!.fileSettings.fileInfo[0].path, "C:\\temp\\*.txt");
    const linux = chooseEntry(doc, "linux").entry!;
    assert.equal(linux.settings!.fileSettings.fileInfo[0].path, "/etc/.*.conf");
    assert.equal(linux.settings!.enableRegistry, false);
  },
});

Deno.test({
  name: "parseDcrDocument() reads the configchunk and AgentTaggedData forms with their output streams" +
    sharedNote,
  ignore: !haveShared,
  fn() {
    for (
      const [file, form] of [["ama_configchunk_linux.json", "configchunk"], [
        "agent_tagged_data_reply_linux.json",
        "taggedData",
      ]]
    ) {
      const doc = parseDcrDocument(shared(file), "windows");
      assert.equal(doc.form, form, file);
      const { entry, problems } = chooseEntry(doc, "linux");
      assert.deepEqual(problems, [], file);
      assert.equal(entry!.id, "dcr-5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5:CTDataSource-Linux");
      assert.equal(
        entry!.outputStreams.CONFIG_DATA_BLOB_V2,
        "dcr-5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5:CTDataSource-Linux:CONFIG_DATA_BLOB_V2",
      );
      assert.equal(entry!.settings!.softwareSettings.softwareCollectionFrequency, 300);
    }
    const bare = parseDcrDocument(shared("extension_settings_linux.json"), "linux");
    assert.equal(bare.form, "settings");
    assert.equal(chooseEntry(bare, "linux").entry!.settings!.fileSettings.fileCollectionFrequency, 900);
  },
});

Deno.test({
  name: "parseDcrDocument() reads one entry of dataSources.extensions on its own (issue 15)" + sharedNote,
  ignore: !haveShared,
  fn() {
    const resource = JSON.parse(shared("dcr_resource_both_os.json"));
    const [windows] = resource.properties.dataSources.extensions;
    const doc = parseDcrDocument(JSON.stringify(windows), "linux");
    assert.equal(doc.form, "extension");
    assert.deepEqual(doc.problems, []);
    const { entry } = chooseEntry(doc, "windows");
    assert.equal(entry!.id, "CTDataSource-Windows");
    assert.equal(entry!.settings!.registrySettings.registryInfo.length, 17);
    assert.equal(chooseEntry(doc, "linux").entry, undefined, "a Windows entry is not Linux's");

    const bad = parseDcrDocument(
      { name: "x", extensionName: "ChangeTracking-Linux", extensionSettings: { enableFiles: "yes" } },
      "linux",
    );
    assert.deepEqual(bad.entries[0].problems.map((p) => p.path), ["extensionSettings.enableFiles"]);
    const foreign = parseDcrDocument({ name: "x", extensionName: "Other", extensionSettings: {} }, "linux");
    assert.match(foreign.warnings[0], /extension "Other" is not Change Tracking, ignored/);
    assert.match(
      foreign.problems[0].message,
      /no ChangeTracking-Linux or ChangeTracking-Windows configuration/,
    );
  },
});

Deno.test("parseDcrDocument() lists every problem of a malformed DCR with its JSON path", () => {
  const doc = parseDcrDocument(
    Deno.readTextFileSync(new URL("testdata/malformed_linux.json", import.meta.url)),
    "linux",
  );
  const { entry, problems, warnings } = chooseEntry(doc, "linux");
  assert.equal(entry, undefined);
  const base = "properties.dataSources.extensions[0].extensionSettings";
  assert.deepEqual(problems.map((p) => p.path).sort(), [
    `${base}.enableFiles`,
    `${base}.fileSettings.fileCollectionFrequency`,
    `${base}.fileSettings.fileInfo[1].links`,
    `${base}.fileSettings.fileInfo[1].path`,
    `${base}.fileSettings.fileInfo[1].recurse`,
    `${base}.softwareSettings.softwareCollectionFrequency`,
  ]);
  const byPath = Object.fromEntries(problems.map((p) => [p.path.slice(base.length + 1), p.message]));
  assert.equal(byPath["enableFiles"], 'expected boolean, got "yes"');
  assert.match(byPath["fileSettings.fileCollectionFrequency"], /10.*got 5/);
  assert.match(byPath["fileSettings.fileInfo[1].links"], /Follow \| Ignore \| Manage, got "Sometimes"/);
  assert.ok(warnings.includes(`${base}.colour: unknown key, ignored`), warnings.join("\n"));
});

Deno.test("parseDcrDocument() matches keys case-insensitively and accepts the known aliases", () => {
  const doc = parseDcrDocument({
    EnableFiles: false,
    serviceSettings: { serviceCollectionFrequency: 600 },
    fileSettings: {
      fileinfo: [{
        name: "x",
        destinationPath: "/etc/*.conf",
        checksum: "Sha256",
        links: "ignore",
        pathType: "Directory",
      }],
    },
  }, "linux");
  const { entry, problems } = chooseEntry(doc, "linux");
  assert.deepEqual(problems, []);
  const s = entry!.settings!;
  assert.equal(s.enableFiles, false);
  assert.equal(s.servicesSettings.serviceCollectionFrequency, 600);
  assert.deepEqual(
    [
      s.fileSettings.fileInfo[0].checksum,
      s.fileSettings.fileInfo[0].links,
      s.fileSettings.fileInfo[0].pathType,
    ],
    ["sha256", "Ignore", "Folder"],
  );
  // Missing keys take the OS defaults.
  assert.equal(s.softwareSettings.softwareCollectionFrequency, 300);
});

Deno.test("parseDcrDocument() gives clear problems for non-JSON, a foreign shape and AMA's Success:false", () => {
  assert.match(parseDcrDocument("{not json", "linux").problems[0].message, /not valid JSON/);
  assert.match(parseDcrDocument({ hello: 1 }, "linux").problems[0].message, /not a recognised DCR form/);
  const fail = parseDcrDocument({ Success: false, Description: "no DCR", TaggedData: "" }, "linux");
  assert.equal(fail.problems[0].message, "AMA replied Success:false: no DCR");
  assert.match(parseDcrDocument("[1]", "linux").problems[0].message, /expected a JSON object, got an array/);
});

Deno.test("chooseEntry() picks the configuration whose id sorts first and names the others", () => {
  const conf = (id: string, freq: number) => ({
    id,
    extensionSettings: { softwareSettings: { softwareCollectionFrequency: freq } },
  });
  const doc = parseDcrDocument({
    extensionConfigurations: { "ChangeTracking-Linux": [conf("dcr-b:x", 60), conf("dcr-a:x", 120)] },
  }, "linux");
  const { entry, warnings } = chooseEntry(doc, "linux");
  assert.equal(entry!.id, "dcr-a:x");
  assert.equal(entry!.settings!.softwareSettings.softwareCollectionFrequency, 120);
  assert.ok(warnings.some((w) => w.includes("using dcr-a:x") && w.includes("dcr-b:x")));
});

Deno.test("the built-in defaults are valid Microsoft defaults for each OS", () => {
  const linux = chooseEntry(parseDcrDocument(defaultExtensionSettings("linux"), "linux"), "linux").entry!
    .settings!;
  assert.equal(linux.fileSettings.fileInfo[0].path, "/etc/.*.conf");
  assert.deepEqual(
    [
      linux.fileSettings.fileCollectionFrequency,
      linux.softwareSettings.softwareCollectionFrequency,
      linux.enableRegistry,
    ],
    [900, 300, false],
  );
  const win = chooseEntry(parseDcrDocument(defaultExtensionSettings("windows"), "windows"), "windows").entry!
    .settings!;
  assert.equal(win.registrySettings.registryInfo.length, 17);
  assert.ok(win.registrySettings.registryInfo.every((r) => !r.enabled && r.recurse && r.valueName === ""));
  assert.equal(win.registrySettings.registryInfo[16].name, "Registry_17");
});

Deno.test("validateSettings() honours a Windows service frequency outside Microsoft's range with a warning", () => {
  const { entry, warnings } = chooseEntry(
    parseDcrDocument({ servicesSettings: { serviceCollectionFrequency: 60 } }, "windows"),
    "windows",
  );
  assert.equal(entry!.settings!.servicesSettings.serviceCollectionFrequency, 60);
  assert.ok(warnings.some((w) => w.includes("servicesSettings.serviceCollectionFrequency: 60 s is outside")));
});

Deno.test("parseDcrDocument() rejects a path pattern that needs backtracking, named as the DCR spells the key, with the other problems", () => {
  const doc = parseDcrDocument(
    JSON.stringify({
      enableFiles: true,
      FileSettings: {
        fileInfo: [
          { name: "ok", destinationPath: "/etc/.*.conf" },
          { name: "redos", destinationPath: "/srv/in/(a+)+$" },
          { name: "backref", DestinationPath: "/srv/in/(x)\\1", recurse: "yes" },
          { name: "lookahead", path: "/srv/in/a(?=b)" },
        ],
      },
    }),
    "linux",
  );
  const { entry, problems } = chooseEntry(doc, "linux");
  assert.equal(entry, undefined);
  assert.deepEqual(
    problems.map((p) => p.path).sort(),
    [
      "FileSettings.fileInfo[2].DestinationPath",
      "FileSettings.fileInfo[2].recurse",
      "FileSettings.fileInfo[3].path",
    ].sort(),
  );
  const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
  assert.match(
    byPath["FileSettings.fileInfo[2].DestinationPath"],
    /^backreference \\1 is not supported in the pattern/,
  );
  assert.match(byPath["FileSettings.fileInfo[3].path"], /^lookahead \(\?=…\) is not supported/);
  // (a+)+$ is in the subset: matched in linear time, so accepted.
  const fine = parseDcrDocument(
    JSON.stringify({ fileSettings: { fileInfo: [{ destinationPath: "/srv/in/(a+)+$" }] } }),
    "linux",
  );
  assert.deepEqual(chooseEntry(fine, "linux").problems, []);
});

Deno.test("parseDcrDocument() takes prototype names as plain keys and values (constructor, __proto__, toString)", () => {
  const text = JSON.stringify({
    enableFiles: true,
    constructor: { a: 1 },
    toString: "x",
    fileSettings: {
      constructor: { fileInfo: [] },
      hasOwnProperty: 1,
      fileInfo: [{
        destinationPath: "/etc/a",
        valueOf: { a: 1 },
        checksum: "constructor",
        links: "toString",
      }],
    },
  }).replace('"toString":"x"', '"__proto__":{"enableFiles":"yes"}');
  const doc = parseDcrDocument(text, "linux");
  const { entry, problems, warnings } = chooseEntry(doc, "linux");
  assert.equal(entry, undefined);
  assert.deepEqual(problems.map((p) => p.path).sort(), [
    "fileSettings.fileInfo[0].checksum",
    "fileSettings.fileInfo[0].links",
  ]);
  assert.match(problems[0].message, /expected one of .*got "(constructor|toString)"/);
  for (const key of ["constructor", "__proto__", "fileSettings.constructor", "fileSettings.hasOwnProperty"]) {
    assert.ok(
      warnings.includes(`${key}: unknown key, ignored`),
      `${key} not warned:\n${warnings.join("\n")}`,
    );
  }
  // A Windows pipe map keyed "__proto__" is an entry like any other.
  const chunk = parseDcrDocument(
    '{"extensionConfigurations":{"ChangeTracking-Linux":[{"id":"a","extensionSettings":{}}]},' +
      '"outputStreamDefinitions":{"__proto__":{"namedPipe":"p"},"constructor":{"namedPipe":"q"}}}',
    "linux",
  );
  assert.deepEqual(Object.entries(chunk.entries[0].namedPipes), [["__proto__", "p"], ["constructor", "q"]]);
});

Deno.test("parseDcrDocument() rejects nesting deeper than a DCR has, naming where, without overflowing the stack", () => {
  const deep = `{"enableFiles":${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
  const doc = parseDcrDocument(deep, "linux");
  assert.equal(doc.entries.length, 0);
  assert.equal(doc.problems.length, 1);
  assert.match(doc.problems[0].path, /^enableFiles(\[0\])+$/);
  assert.match(doc.problems[0].message, /nested deeper than \d+ levels/);
});

Deno.test("validateSettings() rejects relative paths, NUL bytes and the other OS's paths, naming each", () => {
  const linux = chooseEntry(
    parseDcrDocument({
      fileSettings: {
        fileInfo: [
          { destinationPath: "etc/passwd" },
          { destinationPath: "/etc/\u0000shadow" },
          { destinationPath: "C:\\Windows\\*.ini" },
          { destinationPath: "\\\\server\\share\\x" },
          { destinationPath: "/etc/ok.conf" },
        ],
        captureRestrictedPaths: ["relative/file", "/etc/ok"],
      },
    }, "linux"),
    "linux",
  );
  assert.equal(linux.entry, undefined);
  const byPath = Object.fromEntries(linux.problems.map((p) => [p.path, p.message]));
  assert.deepEqual(Object.keys(byPath).sort(), [
    "fileSettings.captureRestrictedPaths[0]",
    "fileSettings.fileInfo[0].destinationPath",
    "fileSettings.fileInfo[1].destinationPath",
    "fileSettings.fileInfo[2].destinationPath",
    "fileSettings.fileInfo[3].destinationPath",
  ]);
  assert.match(byPath["fileSettings.fileInfo[0].destinationPath"], /absolute.*"etc\/passwd"/);
  assert.match(byPath["fileSettings.fileInfo[1].destinationPath"], /NUL/);
  assert.match(byPath["fileSettings.fileInfo[2].destinationPath"], /Windows path.*Linux/);
  assert.match(byPath["fileSettings.fileInfo[3].destinationPath"], /Windows path.*Linux/);

  const windows = chooseEntry(
    parseDcrDocument({
      fileSettings: {
        fileInfo: [
          { path: "/etc/passwd" },
          { path: "temp\\x.txt" },
          { path: "C:\\temp\u0000\\x" },
          { path: "C:\\temp\\*.txt" },
          { path: "%windir%\\system32\\drivers\\etc\\hosts" },
          { path: "\\\\server\\share\\x.txt" },
        ],
      },
      registrySettings: {
        registryInfo: [{ keyName: "HKEY_LOCAL_MACHINE\\Software" }, { keyName: "Software\\Microsoft" }, {
          keyName: "HKLM\\Soft\u0000ware",
        }],
      },
    }, "windows"),
    "windows",
  );
  const win = Object.fromEntries(windows.problems.map((p) => [p.path, p.message]));
  assert.deepEqual(Object.keys(win).sort(), [
    "fileSettings.fileInfo[0].path",
    "fileSettings.fileInfo[1].path",
    "fileSettings.fileInfo[2].path",
    "registrySettings.registryInfo[1].keyName",
    "registrySettings.registryInfo[2].keyName",
  ]);
  assert.match(win["fileSettings.fileInfo[0].path"], /Linux path.*Windows/);
  assert.match(win["fileSettings.fileInfo[1].path"], /absolute/);
  assert.match(win["registrySettings.registryInfo[1].keyName"], /hive/);
});
