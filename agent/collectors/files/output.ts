// Where a files collection goes: the run's sink, or memory when the caller passed none (tests, tools).
import type { CollectContext, Collected, ItemSink } from "../types.ts";
import { MemorySink } from "../sink.ts";
import type { FileItem } from "./item.ts";

/** The sink to write to, and the collection to return once done (sorted by path when kept in memory). */
export function fileOutput(ctx: CollectContext): {
  sink: ItemSink<FileItem>;
  /** The collection: empty but for unseen and warnings when the items went to `ctx.sink`. */
  result(unseen: string[], warnings: string[]): Collected<FileItem>;
} {
  if (ctx.sink) {
    return {
      sink: ctx.sink as unknown as ItemSink<FileItem>,
      result: (unseen, warnings) => ({ items: [], unseen, warnings }),
    };
  }
  const mem = new MemorySink<FileItem>((i) => i.FileSystemPath);
  return {
    sink: mem,
    result: (unseen, warnings) => ({
      items: mem.items.sort((a, b) =>
        a.FileSystemPath < b.FileSystemPath ? -1 : a.FileSystemPath > b.FileSystemPath ? 1 : 0
      ),
      same: mem.kept,
      contents: mem.contents,
      unseen,
      warnings,
    }),
  };
}
