// `ctagent dcr check FILE`: every Change Tracking configuration in a DCR file, normalized, or every problem.
import type { Platform } from "../platform.ts";
import { chooseEntry, EXTENSION_NAME, parseDcrDocument } from "../config/document.ts";
import { readDcrFile } from "../config/load.ts";
import { EXIT } from "../exit_codes.ts";
import type { Cli } from "./args.ts";
import type { Io } from "./io.ts";

/** `dcr check FILE`: every CT configuration in the file, normalized, or every problem with its JSON path. */
export async function dcrCheck(cli: Cli, io: Io, os: Platform): Promise<number> {
  const { raw, problem } = await readDcrFile(cli.file!);
  if (raw === undefined) {
    if (cli.json) {
      io.out(JSON.stringify({ file: cli.file, form: null, valid: false, problems: [problem], warnings: [] }));
    }
    io.err(`ctagent: ${problem!.message}`);
    return EXIT.INVALID_DCR;
  }
  const doc = parseDcrDocument(raw, cli.os ?? os);
  const problems = [...doc.problems, ...doc.entries.flatMap((e) => e.problems)];
  const warnings = [...doc.warnings, ...doc.entries.flatMap((e) => e.warnings)];
  for (const o of ["linux", "windows"] as const) {
    const mine = doc.entries.filter((e) => e.os === o);
    if (mine.length > 1) {
      warnings.push(...chooseEntry(doc, o).warnings.filter((w) => w.includes("configurations: using")));
    }
  }
  const valid = problems.length === 0;
  if (cli.json) {
    io.out(JSON.stringify(
      {
        file: cli.file,
        form: doc.form ?? null,
        valid,
        problems,
        warnings,
        configurations: doc.entries.map((e) => ({
          extensionName: EXTENSION_NAME[e.os],
          id: e.id,
          path: e.path,
          valid: e.problems.length === 0,
          settings: e.settings ?? null,
          outputStreams: e.outputStreams,
        })),
      },
      null,
      2,
    ));
  } else {
    io.out(
      `${cli.file}: ${
        doc.form ? `${doc.form} form` : "unrecognised"
      }, ${doc.entries.length} Change Tracking configuration(s)`,
    );
    for (const e of doc.entries) {
      io.out(`\n${EXTENSION_NAME[e.os]} ${e.id} (${e.problems.length ? "INVALID" : "valid"})`);
      if (e.settings) io.out(JSON.stringify(e.settings, null, 2));
    }
    for (const w of warnings) io.err(`warning: ${w}`);
    if (!valid) {
      io.err(`\n${problems.length} problem(s):`);
      for (const p of problems) io.err(`  ${p.path}: ${p.message}`);
    }
  }
  return valid ? EXIT.OK : EXIT.INVALID_DCR;
}
