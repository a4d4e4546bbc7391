// The machine the reliability tests change at random: a dpkg database, a forward receiver that counts, the checks.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { startFakeAma } from "../fake_ama.ts";

export const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A seeded random source (mulberry32), so that a failure can be replayed with its seed. */
export { seededRandom as random } from "../helpers.ts";

/** Package name → version: what the machine has. */
export type Packages = Map<string, string>;

/** A machine root with a dpkg database under `dir`, and a software-only DCR. */
export async function machine(dir: string, frequency = 3600) {
  const root = join(dir, "root");
  await Deno.mkdir(join(root, "var/lib/dpkg"), { recursive: true });
  const dcr = join(dir, "dcr.json");
  await Deno.writeTextFile(
    dcr,
    JSON.stringify({
      enableSoftware: true,
      enableServices: false,
      enableFiles: false,
      enableRegistry: false,
      softwareSettings: { softwareCollectionFrequency: frequency },
    }),
  );
  let next = 0;
  const pkgs: Packages = new Map();
  return {
    root,
    dcr,
    pkgs,
    /** Writes the dpkg status file of `pkgs`. */
    async write() {
      let s = "";
      for (const [name, version] of pkgs) {
        s += `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\n` +
          `Description: p\n\n`;
      }
      await Deno.writeTextFile(join(root, "var/lib/dpkg/status"), s);
    },
    add(n: number) {
      for (let i = 0; i < n; i++) pkgs.set(`pkg${next++}`, "1");
    },
    /** Some packages upgraded, some removed, some added: a few of each, at random. */
    modify(rand: () => number) {
      const names = [...pkgs.keys()];
      const pick = () => names[Math.floor(rand() * names.length)];
      for (let i = Math.floor(rand() * 40); i > 0; i--) {
        const n = pick();
        if (pkgs.has(n)) pkgs.set(n, String(Number(pkgs.get(n)) + 1));
      }
      for (let i = Math.floor(rand() * 10); i > 0; i--) pkgs.delete(pick());
      this.add(Math.floor(rand() * 10));
    },
  };
}

/** The software items a database holds (name → version), and whether its integrity check passes. */
export function stored(dbPath: string): { items: Packages; integrity: string } {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const integrity = String(
      (db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check,
    );
    const items: Packages = new Map();
    const hasItems = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'items'").get();
    if (hasItems) {
      for (const r of db.prepare("SELECT data FROM items WHERE collector = 'software'").all()) {
        const d = JSON.parse((r as { data: string }).data);
        items.set(d.SoftwareName, d.CurrentVersion);
      }
    }
    return { items, integrity };
  } finally {
    db.close();
  }
}

/** Records the runs of a database put in its outbox, from their counts (every committed run has its row). */
export function committedRecords(dbPath: string): { records: number; dropped: number; left: number } {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    let records = 0;
    for (const r of db.prepare("SELECT counts FROM runs").all()) {
      records += Number(JSON.parse((r as { counts: string }).counts).records ?? 0);
    }
    const dropped = Number(
      (db.prepare("SELECT value FROM state WHERE key = 'outbox.dropped'").get() as
        | { value: string }
        | undefined)
        ?.value ?? 0,
    );
    const left = Number((db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n);
    return { records, dropped, left };
  } finally {
    db.close();
  }
}

/** "Added pkg3 1", "Modified pkg1 2", "Removed pkg9 1": the changes from `before` to `after`, sorted. */
export function diff(before: Packages, after: Packages): string[] {
  const out: string[] = [];
  for (const [n, v] of after) {
    const b = before.get(n);
    if (b === undefined) out.push(`Added ${n} ${v}`);
    else if (b !== v) out.push(`Modified ${n} ${v}`);
  }
  for (const [n, v] of before) if (!after.has(n)) out.push(`Removed ${n} ${v}`);
  return out.sort();
}

/** The same form, from change records (`--once --json` changes, or what a receiver got). */
export function changeLines(records: Record<string, unknown>[]): string[] {
  return records.map((c) =>
    `${c.ChangeCategory} ${c.SoftwareName} ${c.ChangeCategory === "Removed" ? c.Previous : c.Current}`
  ).sort();
}

export function samePackages(a: Packages, b: Packages): boolean {
  return a.size === b.size && [...a].every(([n, v]) => b.get(n) === v);
}

/** A forward receiver with acks that counts every record by RecordId (and keeps the change records). */
export async function receiver() {
  const sink = `@ctagent-reliability-${crypto.randomUUID()}`;
  const seen = new Map<string, number>();
  const changes: Record<string, unknown>[] = [];
  const ama = await startFakeAma({
    config: false,
    data: [sink],
    // A forward receiver takes ctagent's full records (RecordId and all): AMA's column rules are not its.
    validate: false,
    onEvent: (e) => {
      const id = String(e.record.RecordId);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if (e.record.ChangeCategory) changes.push(e.record);
    },
  });
  return {
    sink,
    seen,
    changes,
    /** Received events are counted above; the fake's own list would only grow. */
    trim: () => void ama.received.splice(0),
    duplicates: () => [...seen.values()].reduce((a, n) => a + n - 1, 0),
    close: () => ama.close(),
  };
}

/** Runs ctagent as a process; `killAfterMs` sends SIGKILL then. Resolves with how it ended. */
export async function ctagent(
  args: string[],
  killAfterMs?: number,
): Promise<{ code: number; killed: boolean; out: string; err: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* it ended already */ }
  }, killAfterMs);
  const out = await child.output();
  clearTimeout(timer);
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, killed: out.signal === "SIGKILL", out: text(out.stdout), err: text(out.stderr) };
}

/** Fails with the seed and round, so that the run can be replayed. */
export function check(ok: boolean, what: string, where: { seed: number; round: number }): void {
  assert.ok(ok, `${what} (seed ${where.seed}, round ${where.round})`);
}
