// Test child: a realtime files collection of a directory whose files all read as written a moment ago (each is
// hashed after it settled), into a sink that fails on the second checksum it is given; prints how it ended.
import { collectFiles, type FileItem } from "../mod.ts";
import { settingsSchema } from "../../../config/dcr.ts";
import { liveHost } from "../../../host/mod.ts";
import { MemorySink } from "../../sink.ts";
import { scopeTest } from "../../scope.ts";
import { memoryLogger } from "../../../log.ts";
import type { ItemSink } from "../../types.ts";

const [dir] = Deno.args;
const live = liveHost();
const host = { ...live, files: { ...live.files, posix: { ...live.files.posix!, racy: () => true } } };

class FullSink extends MemorySink<FileItem> {
  override add(item: FileItem, fingerprint?: string): void {
    if (item.FileContentChecksum && this.items.some((i) => i.FileContentChecksum)) {
      throw new Error(`database or disk is full (storing ${item.FileSystemPath})`);
    }
    super.add(item, fingerprint);
  }
}
const sink = new FullSink((i) => i.FileSystemPath);
const settings = settingsSchema("linux").parse({
  fileSettings: { fileInfo: [{ name: "r", path: `${dir}/.*`, recurse: true }] },
});
const error = await collectFiles(settings, {
  host,
  signal: new AbortController().signal,
  log: memoryLogger(),
  scope: scopeTest({ keys: [], prefixes: [`${dir}/`] }),
  sink: sink as unknown as ItemSink,
}).then(() => null, (e) => String(e));
console.log(JSON.stringify({ error, stored: sink.items.map((i) => i.FileSystemPath) }));
