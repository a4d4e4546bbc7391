// Test helper: one files collection streamed into a memory sink, as the pipeline runs it, with the items the
// collector said are the same filled in from the collection before (what the pipeline keeps stored).
import assert from "node:assert/strict";
import { collectFiles, type FileItem, type FilesOptions } from "../mod.ts";
import { MemorySink } from "../../sink.ts";
import type { CollectContext, ItemSink } from "../../types.ts";
import type { Settings } from "../../../config/dcr.ts";
import { memoryLogger } from "../../../log.ts";

export interface Streamed {
  /** Every item of this run (found, or kept from `previous`), sorted by path. */
  items: FileItem[];
  byPath: Map<string, FileItem>;
  /** What `ctx.previous` is on the next run. */
  fingerprints: Map<string, string>;
  /** Items the collector built and handed over this run. */
  added: FileItem[];
  /** Keys it said are the same as before. */
  kept: string[];
  contents: { checksum: string; text: string; size: number }[];
  unseen: string[];
  warnings: string[];
  /** What the next run can begin before its turn (Collected.ahead). */
  ahead?: string;
  log: ReturnType<typeof memoryLogger>;
}

export async function collectStreamed(
  settings: Settings,
  host: CollectContext["host"],
  opts: FilesOptions,
  previous?: Streamed,
  /** More of the run's context (what was begun before its turn). */
  more: Pick<CollectContext, "begun"> = {},
): Promise<Streamed> {
  const log = memoryLogger();
  const sink = new MemorySink<FileItem>((i) => i.FileSystemPath);
  const r = await collectFiles(settings, {
    host,
    signal: new AbortController().signal,
    log,
    previous: previous?.fingerprints,
    sink: sink as unknown as ItemSink,
    ...more,
  }, opts);
  assert.deepEqual(r.items, [], "streamed to the sink, not returned");
  const byPath = new Map(sink.items.map((i) => [i.FileSystemPath, i]));
  const fingerprints = new Map(sink.fingerprints);
  for (const k of sink.kept) {
    assert.ok(!byPath.has(k), `${k} both handed over and said to be the same`);
    assert.ok(previous?.byPath.has(k), `${k} said to be the same but was never seen`);
    byPath.set(k, previous!.byPath.get(k)!);
    fingerprints.set(k, previous!.fingerprints.get(k)!);
  }
  const items = [...byPath.values()].sort((a, b) => a.FileSystemPath < b.FileSystemPath ? -1 : 1);
  return {
    items,
    byPath,
    fingerprints,
    added: sink.items,
    kept: sink.kept,
    contents: sink.contents,
    unseen: r.unseen ?? [],
    warnings: r.warnings ?? [],
    ahead: r.ahead,
    log,
  };
}
