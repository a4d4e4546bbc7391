// The sink of a streaming collector called without one (tests, tools): it keeps everything in memory.
import type { Content, Item, ItemSink } from "./types.ts";

export class MemorySink<I extends Item = Item> implements ItemSink<I> {
  readonly items: I[] = [];
  /** Keys the collector said are the same as before. */
  readonly kept: string[] = [];
  readonly contents: Content[] = [];
  /** The fingerprints given with the items, by key: what `ctx.previous` is on the next run. */
  readonly fingerprints = new Map<string, string>();

  constructor(private readonly key: (item: I) => string) {}

  add(item: I, fingerprint?: string): void {
    this.items.push(item);
    if (fingerprint !== undefined) this.fingerprints.set(this.key(item), fingerprint);
  }

  same(key: string): void {
    this.kept.push(key);
  }

  content(c: Content): void {
    this.contents.push(c);
  }
}
