// The agent's own settings file (`--config FILE`): the long flags as JSON keys, turned back into arguments, and
// the settings of the collectors the DCR does not schedule.
import { MAX_FREQUENCY, MIN_FREQUENCY } from "./dcr.ts";

/** ctagent's own settings of the collectors the DCR does not know, by their `schedule.setting`. */
export type CollectorSettings = Readonly<Record<string, { enabled?: boolean; frequency?: number }>>;

export type FlagSpec = Readonly<Record<string, { type: "string" | "boolean"; multiple?: boolean }>>;

/** Flags that make no sense in a file: what to run is said on the command line. */
const COMMAND_LINE_ONLY = new Set(["once", "json", "help", "version", "config"]);
/** The key of the collectors' own settings (not a flag). */
const COLLECTORS_KEY = "collectors";

function parseFile(text: string, path: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new TypeError(`Cannot parse ${path}: not valid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new TypeError(`Cannot parse ${path}: expected a JSON object of flag names and values`);
  }
  return doc as Record<string, unknown>;
}

/**
 * Turns `{"forward": "tcp://127.0.0.1:24224", "no-ui": true, "ama-config": ["@a", "@b"]}` into the arguments
 * `--forward tcp://127.0.0.1:24224 --no-ui --ama-config @a --ama-config @b`. Numbers are accepted for string
 * flags (`"retention-days": 30`). Throws a TypeError naming the file and key for anything else.
 */
export function configFileArgs(text: string, path: string, flags: FlagSpec): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(parseFile(text, path))) {
    if (key === COLLECTORS_KEY) continue;
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

/**
 * The file's `collectors` object: ctagent's own settings of the collectors the DCR does not schedule, by their
 * setting name (`settings`): `{"collectors": {"<setting>": {"enabled": false, "frequency": 600}}}`. Throws a
 * TypeError naming the file and key for anything else.
 */
export function collectorSettingsOf(
  text: string,
  path: string,
  settings: readonly string[],
): CollectorSettings {
  const all = parseFile(text, path)[COLLECTORS_KEY];
  if (all === undefined) return {};
  const where = (...keys: string[]) => `Cannot parse ${path}: ${[COLLECTORS_KEY, ...keys].join(".")}`;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(all)) throw new TypeError(`${where()}: expected an object of collector settings`);
  const out: Record<string, { enabled?: boolean; frequency?: number }> = {};
  for (const [name, value] of Object.entries(all)) {
    if (!settings.includes(name)) {
      throw new TypeError(
        `${where(name)}: no collector takes this setting (${
          settings.length ? `known: ${settings.join(", ")}` : "the DCR schedules every collector"
        })`,
      );
    }
    if (!isObject(value)) throw new TypeError(`${where(name)}: expected {"enabled": …, "frequency": …}`);
    const mine: { enabled?: boolean; frequency?: number } = {};
    for (const [key, v] of Object.entries(value)) {
      if (key === "enabled" && typeof v === "boolean") mine.enabled = v;
      else if (
        key === "frequency" && typeof v === "number" && Number.isInteger(v) && v >= MIN_FREQUENCY &&
        v <= MAX_FREQUENCY
      ) mine.frequency = v;
      else if (key === "enabled") {
        throw new TypeError(`${where(name, key)}: expected true or false, got ${JSON.stringify(v)}`);
      } else if (key === "frequency") {
        throw new TypeError(
          `${where(name, key)}: expected whole seconds from ${MIN_FREQUENCY} to ${MAX_FREQUENCY}, got ${
            JSON.stringify(v)
          }`,
        );
      } else throw new TypeError(`${where(name, key)}: unknown key (expected enabled, frequency)`);
    }
    out[name] = mine;
  }
  return out;
}
