// The modes that only read the state database: `status`, `verify` (which records its result) and `export`.
import type { Host } from "../host/mod.ts";
import { EXIT } from "../exit_codes.ts";
import { readStatus, statusText } from "../status.ts";
import { exportHistory, verifyDatabase, verifyFile } from "../history.ts";
import type { OpenedDb } from "../../db/open.ts";
import type { Cli } from "./args.ts";
import type { Io } from "./io.ts";

/** The commands this module answers. */
export const READ_COMMANDS: readonly Cli["command"][] = ["status", "verify", "export"];

export async function runReadMode(cli: Cli, io: Io, opened: OpenedDb, host: Host): Promise<number> {
  if (cli.command === "verify") {
    return cli.chainFile
      ? verifyFile(cli.chainFile, opened, cli.json, io)
      : await verifyDatabase(opened, cli.json, io);
  }
  if (cli.command === "export") {
    return exportHistory(opened, { out: cli.out, since: cli.since, computer: host.hostname }, io);
  }
  const s = await readStatus(opened.db);
  io.out(cli.json ? JSON.stringify(s, null, 2) : statusText(s));
  return EXIT.OK;
}
