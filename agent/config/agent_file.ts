// The agent's own settings file (`--config FILE`): the long flags as JSON keys, turned back into arguments.
export type FlagSpec = Readonly<Record<string, { type: "string" | "boolean"; multiple?: boolean }>>;

/** Flags that make no sense in a file: what to run is said on the command line. */
const COMMAND_LINE_ONLY = new Set(["once", "json", "help", "version", "config"]);

/**
 * Turns `{"forward": "tcp://127.0.0.1:24224", "no-ui": true, "ama-config": ["@a", "@b"]}` into the arguments
 * `--forward tcp://127.0.0.1:24224 --no-ui --ama-config @a --ama-config @b`. Numbers are accepted for string
 * flags (`"retention-days": 30`). Throws a TypeError naming the file and key for anything else.
 */
export function configFileArgs(text: string, path: string, flags: FlagSpec): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new TypeError(`Cannot parse ${path}: not valid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new TypeError(`Cannot parse ${path}: expected a JSON object of flag names and values`);
  }
  const args: string[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const spec = flags[key];
    if (!spec || COMMAND_LINE_ONLY.has(key)) {
      throw new TypeError(`Cannot parse ${path}: ${JSON.stringify(key)} is not a setting the file can hold`);
    }
    const where = `${path}: ${key}`;
    if (spec.type === "boolean") {
      if (typeof value !== "boolean") {
        throw new TypeError(`Cannot parse ${where}: expected true or false, got ${JSON.stringify(value)}`);
      }
      if (value) args.push(`--${key}`);
      continue;
    }
    const values = spec.multiple && Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v !== "string" && typeof v !== "number") {
        throw new TypeError(
          `Cannot parse ${where}: expected ${
            spec.multiple ? "a string or a list of strings" : "a string"
          }, got ${JSON.stringify(v)}`,
        );
      }
      args.push(`--${key}`, String(v));
    }
  }
  return args;
}
