// The Windows boot task: argument quoting (checked against the CommandLineToArgvW rules), XML and file encoding.
import assert from "node:assert/strict";
import { encodeTaskFile, schtasks, taskXml, windowsArg } from "./windows_task.ts";

/** CommandLineToArgvW's splitting rules, as documented, for checking windowsArg() round trips. */
function splitCommandLine(line: string): string[] {
  const args: string[] = [];
  let cur = "";
  let inQuotes = false;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "\\") {
      let n = 0;
      while (line[i] === "\\") (n++, i++);
      if (line[i] === '"') {
        cur += "\\".repeat(Math.floor(n / 2));
        if (n % 2) cur += '"';
        else inQuotes = !inQuotes;
      } else {
        cur += "\\".repeat(n);
        i--;
      }
      started = true;
    } else if (ch === '"') {
      inQuotes = !inQuotes;
      started = true;
    } else if (/\s/.test(ch) && !inQuotes) {
      if (started) args.push(cur);
      cur = "";
      started = false;
    } else {
      cur += ch;
      started = true;
    }
  }
  if (started) args.push(cur);
  return args;
}

Deno.test("windowsArg() round-trips through CommandLineToArgvW's rules", () => {
  const words = [
    "--data-dir",
    "C:\\ProgramData\\ctagent",
    "C:\\Program Files\\ctagent\\",
    'say "hi"',
    "trailing\\\\",
    'a\\"b',
    "",
    "tab\there",
  ];
  assert.deepEqual(splitCommandLine(words.map(windowsArg).join(" ")), words);
  assert.equal(windowsArg("plain"), "plain", "plain words stay unquoted");
});

Deno.test("taskXml() runs at boot as SYSTEM without a time limit, escapes its text", () => {
  const xml = taskXml({
    command: "C:\\Program Files\\ctagent\\ctagent.exe",
    args: ["--data-dir", "C:\\ProgramData\\ctagent", "--dcr", "C:\\dcr <&>.json"],
    workingDirectory: "C:\\ProgramData\\ctagent",
    version: "0.1.0",
  });
  assert.match(xml, /<BootTrigger>\s*<Enabled>true<\/Enabled>/);
  assert.match(xml, /<UserId>S-1-5-18<\/UserId>/);
  assert.match(
    xml,
    /<ExecutionTimeLimit>PT0S<\/ExecutionTimeLimit>/,
    "the default would stop the agent after 72 h",
  );
  assert.match(xml, /<MultipleInstancesPolicy>IgnoreNew<\/MultipleInstancesPolicy>/);
  assert.match(
    xml,
    /<Arguments>--data-dir C:\\ProgramData\\ctagent --dcr &quot;C:\\dcr &lt;&amp;&gt;.json&quot;<\/Arguments>/,
  );
  assert.throws(
    () => taskXml({ command: "ctagent.exe", args: [], workingDirectory: "C:\\", version: "0" }),
    /absolute/,
  );
});

Deno.test("encodeTaskFile() writes UTF-16LE with a BOM and CRLF lines", () => {
  const bytes = encodeTaskFile("<a>é</a>\n");
  assert.deepEqual([...bytes.slice(0, 2)], [0xff, 0xfe]);
  assert.equal(new TextDecoder("utf-16le").decode(bytes.slice(2)), "<a>é</a>\r\n");
  assert.deepEqual(schtasks.create("C:\\t.xml"), ["schtasks.exe", [
    "/Create",
    "/TN",
    "ctagent",
    "/XML",
    "C:\\t.xml",
    "/F",
  ]]);
});
