// Fault test: AMA down, 1,000 changes across runs, the agent killed -9 in between, AMA back: all arrive, once.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { main } from "../agent/cli.ts";
import { openDb } from "../db/open.ts";
import { startFakeAma } from "./fake_ama.ts";
import { capture, stanza, tree } from "./e2e_helpers.ts";
import { dcrCollectorsOnly } from "./helpers.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SETTINGS = {
  enableFiles: false,
  enableServices: false,
  enableRegistry: false,
  enableSoftware: true,
  enableInventory: true,
  softwareSettings: { softwareCollectionFrequency: 10 },
};

async function outboxDepth(path: string): Promise<number> {
  const o = await openDb(path);
  try {
    const { n } = await o.db.selectFrom("outbox").select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(n);
  } finally {
    await o.close();
  }
}

Deno.test("fault: AMA down, 1,000 changes across runs, one kill -9; when AMA is back every record arrives exactly once", async () => {
  const t = tree();
  const dcr = join(t.dir, "dcr.json");
  writeFileSync(dcr, JSON.stringify(SETTINGS));
  const dataName = `@ctagent-fault-data-${crypto.randomUUID()}`;
  const common = [
    "--data-dir",
    t.data,
    "--root",
    t.root,
    "--dcr",
    dcr,
    "--ama-config",
    `@ctagent-fault-none-${crypto.randomUUID()}`,
    "--ama-data",
    dataName,
    ...dcrCollectorsOnly(t.dir),
  ];
  const base = Array.from({ length: 10 }, (_, i) => stanza(`base${i}`, "1"));
  const added: string[] = [];
  const write = () => t.write(base.join("") + added.map((n) => stanza(n, "1")).join(""));
  const addBatch = (k: number) => {
    for (let i = 0; i < 250; i++) added.push(`pkg-${k}-${i}`);
    write();
  };
  const once = async () => {
    const io = capture();
    const code = await main(["--once", ...common], { io });
    assert.ok(code === 0 || code === 1, `--once exit ${code}: ${io.errText()}`);
    assert.match(io.errText(), /not delivered to AMA/, "AMA is down: the records stay");
  };

  write();
  await once(); // baseline: 10 snapshot records
  addBatch(1);
  await once();
  addBatch(2);
  await once();

  // The daemon finds 250 more changes while AMA is down, then is killed -9.
  addBatch(3);
  const dbPath = join(t.data, "ctagent.db");
  const before = await outboxDepth(dbPath);
  const daemon = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(REPO, "main.ts"), "--no-ui", ...common],
    cwd: REPO,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(daemon.stderr).text();
  const deadline = Date.now() + 20_000;
  while (await outboxDepth(dbPath) < before + 500 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  daemon.kill("SIGKILL");
  const status = await daemon.status;
  const stderr = await stderrText;
  assert.equal(status.signal, "SIGKILL", stderr);
  assert.equal(await outboxDepth(dbPath), before + 500, "the killed daemon's run is in the outbox");

  addBatch(4);
  await once();
  assert.equal(added.length, 1000);

  // AMA comes back; the next run delivers everything.
  const ama = await startFakeAma({ config: false, data: [dataName] });
  const io = capture();
  assert.equal(await main(["--once", "--deliver-timeout", "30", ...common], { io }), 0, io.errText());
  assert.equal(io.errText(), "", "everything delivered: no warning");
  const expectedTotal = 10 + 1000 + 1000;
  await ama.waitFor(expectedTotal, 10_000);
  assert.equal(ama.received.length, expectedTotal, "nothing extra arrived");
  // AMA's records carry no RecordId (issue 15): a record sent twice arrives twice with the same text, and
  // every record of this test is about one package on one stream.
  const texts = ama.received.map((e) => `${e.tag} ${JSON.stringify(e.record)}`);
  assert.equal(new Set(texts).size, texts.length, "no record arrived twice");
  const changes = ama.received.filter((e) => e.record.ConfigChangeType === "Software");
  assert.equal(changes.length, 1000);
  assert.ok(changes.every((e) => e.record.ChangeCategory === "Added"));
  assert.deepEqual(changes.map((e) => e.record.SoftwareName).sort(), [...added].sort());
  const snapshots = ama.received.filter((e) => e.record.ConfigDataType === "Software");
  assert.deepEqual(
    snapshots.map((e) => e.record.SoftwareName).sort(),
    [...base.map((_, i) => `base${i}`), ...added].sort(),
  );
  // Order per stream is the order of the runs.
  const order = changes.map((e) => Number(String(e.record.SoftwareName).split("-")[1]));
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
  assert.equal(await outboxDepth(dbPath), 0);
  const st = capture();
  await main(["status", "--json", "--data-dir", t.data], { io: st });
  const outbox = JSON.parse(st.outText()).outbox;
  assert.equal(outbox.dropped, 0);
  assert.equal(outbox.delivered, expectedTotal);
  await ama.close();
  await Deno.remove(t.dir, { recursive: true });
});
