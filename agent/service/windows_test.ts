// `ctagent service` on Windows for real (run under Wine here): files placed, the task registered and removed.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { liveServiceDeps, serviceCommand } from "./mod.ts";
import { windowsPaths } from "./windows.ts";

const onWindows = Deno.build.os === "windows";

Deno.test({
  name: "service install registers a boot task schtasks accepts, uninstall removes it and keeps the state",
  ignore: !onWindows,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "ctagent_svc_" });
    const programFiles = join(tmp, "Program Files");
    const programData = join(tmp, "ProgramData");
    const fakeExe = join(tmp, "ctagent-download.exe");
    await mkdir(programFiles, { recursive: true });
    await copyFile(join(Deno.env.get("SystemRoot") ?? "C:\\windows", "system32", "whoami.exe"), fakeExe);
    const env = (n: string) =>
      ({ ProgramFiles: programFiles, ProgramData: programData } as Record<string, string>)[n] ??
        Deno.env.get(n);
    const out: string[] = [];
    const err: string[] = [];
    const deps = {
      ...liveServiceDeps("1.2.3"),
      execPath: fakeExe,
      env,
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
    };
    const paths = windowsPaths(env);

    assert.equal(
      await serviceCommand(["install", "--no-start", "--listen", "127.0.0.1:8088"], deps),
      0,
      err.join("\n"),
    );
    assert.ok(existsSync(paths.bin), "the executable is copied to Program Files");
    const tasks = join(Deno.env.get("SystemRoot") ?? "C:\\windows", "system32", "tasks", "ctagent");
    assert.ok(existsSync(tasks), `schtasks registered the task (${tasks})\n${out.join("\n")}`);
    const registered = await readFile(tasks, "utf8").catch(async () =>
      new TextDecoder("utf-16le").decode(await readFile(tasks))
    );
    // Wine's task store keeps what it understands (registration info, settings) and drops the triggers,
    // principal and action; Windows keeps everything. Both reject XML they cannot parse.
    assert.match(registered, /ctagent 1\.2\.3/);
    assert.match(registered, /<ExecutionTimeLimit>PT0S<\/ExecutionTimeLimit>/);
    assert.match(registered, /<MultipleInstancesPolicy>IgnoreNew<\/MultipleInstancesPolicy>/);
    if (!registered.includes("created by Wine")) {
      assert.match(registered, /ctagent\.exe/);
      assert.match(registered, /--listen 127\.0\.0\.1:8088/);
    }

    await writeFile(join(paths.dataDir, "state.db"), "x");
    assert.equal(await serviceCommand(["uninstall"], deps), 0, err.join("\n"));
    assert.ok(!existsSync(tasks), "the task is removed");
    assert.ok(!existsSync(paths.bin), "the executable is removed");
    assert.ok(existsSync(join(paths.dataDir, "state.db")), "the state is kept");
    await Deno.remove(tmp, { recursive: true });
  },
});
