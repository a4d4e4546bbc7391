// The users collector end to end on a copy of this machine's /etc, changed by the real useradd and usermod (their
// --prefix: this machine's own accounts are never touched): one change each, and no password hash anywhere.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type EventTime, FluentServer } from "@fluent-org/logger";
import { openDb } from "../../../db/open.ts";
import { liveHost } from "../../host/mod.ts";
import { memoryLogger } from "../../log.ts";
import { settingsSchema } from "../../config/dcr.ts";
import { runCollector } from "../../pipeline/run.ts";
import { main } from "../../cli.ts";
import { capture, collectorPage } from "../../../test/e2e_helpers.ts";
import { startFakeAma } from "../../../test/fake_ama.ts";
import users from "./mod.ts";

/** A made-up SHA-512-crypt-shaped password field, new each run: useradd -p stores whatever it is given. */
function randomHash(): string {
  const abc = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const pick = (n: number) =>
    Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => abc[b & 63]).join("");
  return `$6$${pick(16)}$${pick(86)}`;
}

/** Every 8-character piece of `hash` found in `text` (none, or it leaked). */
function leaks(hash: string, text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 8 <= hash.length; i++) {
    if (text.includes(hash.slice(i, i + 8))) out.push(hash.slice(i, i + 8));
  }
  return out;
}

async function tool(cmd: string, args: string[]): Promise<void> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  assert.equal(o.code, 0, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
}

const haveTools = ["useradd", "usermod"].every((t) => {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${t}`], stdout: "null" }).outputSync().success;
  } catch {
    return false;
  }
});
const SKIP = haveTools && Deno.uid?.() === 0
  ? ""
  : "skipped: needs useradd and usermod (Debian passwd) and root";
const named = (n: string) => SKIP ? `${n} (${SKIP})` : n;

/** A machine tree whose /etc is a copy of this machine's account files plus Debian's sudo rule for %sudo. */
async function machine(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ctagent-users-" });
  await Deno.mkdir(join(root, "etc/sudoers.d"), { recursive: true });
  for (const f of ["passwd", "group", "shadow", "gshadow", "login.defs"]) {
    await Deno.copyFile(`/etc/${f}`, join(root, "etc", f));
  }
  await Deno.writeTextFile(
    join(root, "etc/sudoers"),
    "root ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n",
  );
  return root;
}

Deno.test({
  name: named(
    "useradd, usermod -aG sudo and usermod -L each give exactly one change; no hash reaches the store, log or page",
  ),
  ignore: !!SKIP,
  async fn() {
    const root = await machine();
    const hash = randomHash();
    const opened = await openDb(join(root, "state.db"));
    const log = memoryLogger("debug");
    const host = liveHost({ root, hostname: "testhost" });
    const settings = settingsSchema("linux").parse({});
    const run = () =>
      runCollector({
        ...opened,
        collector: users,
        settings,
        host,
        log,
        signal: new AbortController().signal,
      });
    const changes = async () =>
      (await run()).changes.map((c) => [c.ChangeCategory, c.Kind, c.Name, c.FieldsChanged ?? ""]);
    try {
      assert.equal((await run()).status, "baseline");
      assert.deepEqual(await changes(), [], "nothing changed, nothing reported");

      await tool("useradd", ["--prefix", root, "-N", "-p", hash, "-s", "/bin/bash", "ctagent_t1"]);
      assert.deepEqual(await changes(), [["Added", "user", "ctagent_t1", ""]]);
      await tool("usermod", ["--prefix", root, "-aG", "sudo", "ctagent_t1"]);
      assert.deepEqual(await changes(), [["Modified", "user", "ctagent_t1", "Admin, Groups"]]);
      await tool("usermod", ["--prefix", root, "-L", "ctagent_t1"]);
      assert.deepEqual(await changes(), [["Modified", "user", "ctagent_t1", "PasswordStatus"]]);
      assert.deepEqual(await changes(), []);

      // The page: the account as the inventory shows it, and its three changes.
      const { get, stop } = await collectorPage({ opened, collector: users, settings, host, log });
      let page = "";
      try {
        const inventory = await get("/api/inventory/users?limit=500&q=ctagent_t1");
        const row = JSON.parse(inventory).rows.find((r: { key: string }) => r.key === "user:ctagent_t1");
        assert.deepEqual([row.data.Admin, row.data.PasswordStatus, row.data.Groups], [
          true,
          "locked",
          "sudo, users",
        ]);
        const locked = JSON.parse(await get("/api/inventory/users?limit=500&filter.PasswordStatus=locked"));
        assert.deepEqual(
          locked.rows.map((r: { key: string }) => r.key),
          ["user:ctagent_t1"],
          "the page filters",
        );
        const changed = await get("/api/changes?type=users&limit=50");
        assert.equal(
          JSON.parse(changed).rows.filter((c: { key: string }) => c.key === "user:ctagent_t1").length,
          3,
        );
        page = inventory + changed +
          await get(`/api/item?collector=users&key=${encodeURIComponent("user:ctagent_t1")}`);
      } finally {
        await stop();
      }
      await opened.close();
      // Everything the store holds (database and its write-ahead log), every log line, what the page served.
      const stored = (await Promise.all(
        [...Deno.readDirSync(root)].filter((e) => e.name.startsWith("state.db"))
          .map((e) => Deno.readFile(join(root, e.name))),
      )).map((b) => new TextDecoder("latin1").decode(b)).join("");
      assert.ok(stored.includes("ctagent_t1"), "the store does hold the account");
      assert.ok(
        (await Deno.readTextFile(join(root, "etc/shadow"))).includes(hash.slice(20)),
        "shadow has it",
      );
      assert.deepEqual(leaks(hash, stored + log.lines.join("\n") + page), []);
    } finally {
      await opened.close().catch(() => {});
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: named(
    "--once: users go to --json and a --forward endpoint on ctagent's own streams, never to AMA; --config switches them off",
  ),
  ignore: !!SKIP,
  async fn() {
    const root = await machine();
    const hash = randomHash();
    await tool("useradd", ["--prefix", root, "-N", "-p", hash, "ctagent_t2"]);
    const data = join(root, "data");
    const ama = await startFakeAma({
      settings: { enableSoftware: false, enableServices: false, enableFiles: false },
    });
    const server = new FluentServer({ listenOptions: { port: 0, host: "127.0.0.1" } });
    const got: [string, EventTime, Record<string, unknown>][] = [];
    server.on("entry", (tag, time, record) => got.push([tag, time, record]));
    await server.listen();
    const once = async (args: string[]) => {
      const io = capture();
      const code = await main(["--once", "--data-dir", data, "--root", root, "--no-ui", ...args], { io });
      return { code, out: io.outText(), err: io.errText() };
    };
    try {
      const toAma = ["--ama-config", ama.configEndpoint!, "--ama-data", ama.dataEndpoints[0]];
      const first = await once([...toAma, "--json"]);
      assert.equal(first.code, 0, first.err);
      const doc = JSON.parse(first.out);
      const mine = doc.inventory.users.find((r: Record<string, unknown>) => r.Name === "ctagent_t2");
      assert.deepEqual([mine.ConfigDataType, mine.Kind, mine.PasswordStatus], ["Users", "user", "set"]);
      assert.deepEqual(
        ama.received.filter((e) =>
          e.record.ConfigDataType === "Users" || e.record.ConfigChangeType === "Users"
        ),
        [],
        "AMA's tables have no such type",
      );

      await tool("usermod", ["--prefix", root, "-L", "ctagent_t2"]);
      const forward = ["--no-ama", "--forward", `tcp://127.0.0.1:${server.port}`];
      const second = await once(forward);
      assert.equal(second.code, 4, second.out + second.err);
      const change = got.find(([tag, , r]) => tag === "ctagent:CTAGENT_CHANGE" && r.Name === "ctagent_t2");
      assert.deepEqual(
        [change?.[2].ChangeCategory, change?.[2].FieldsChanged, change?.[2].PasswordStatus],
        ["Modified", "PasswordStatus", "locked"],
      );
      // The change and the changed item's inventory record, on ctagent's own streams only.
      assert.deepEqual([...new Set(got.map(([tag]) => tag))].sort(), [
        "ctagent:CTAGENT_CHANGE",
        "ctagent:CTAGENT_DATA",
      ]);

      await Deno.writeTextFile(
        join(root, "agent.json"),
        JSON.stringify({ collectors: { users: { enabled: false } } }),
      );
      const off = await once([...forward, "--config", join(root, "agent.json")]);
      assert.match(off.out, /users\s+skipped\s+disabled by ctagent's settings/);
      assert.deepEqual(leaks(hash, first.out + second.out + JSON.stringify(got) + off.out), []);
    } finally {
      await server.close();
      await ama.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
