// Prepared statements reused by SQL text on a connection (Kysely's and raw ones alike): each is prepared once.
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** Most statements kept per connection (a run uses a few dozen; the text of some depends on the collector). */
const MAX = 256;

const caches = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/**
 * The prepared statement of `sql` on `raw` (rows as arrays when `asArrays`), the same one each time. node:sqlite
 * frees a statement only when V8 collects its small wrapper, which a quiet heap may not do for hours: a daemon
 * whose realtime runs each prepared their statements anew held megabytes more after every thousand runs (the
 * statements over the `items` view are large). Never for iterate(): an open iteration would be reset by the next
 * user of the same text.
 */
export function statement(raw: DatabaseSync, sql: string, asArrays = false): StatementSync {
  let cache = caches.get(raw);
  if (!cache) caches.set(raw, cache = new Map());
  const key = asArrays ? `a:${sql}` : `o:${sql}`;
  let stmt = cache.get(key);
  if (stmt) {
    cache.delete(key); // most recently used goes last
  } else {
    stmt = raw.prepare(sql);
    if (asArrays) arrays(stmt);
    if (cache.size >= MAX) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, stmt);
  return stmt;
}

/** Lets go of the statements of a connection being closed. */
export function forgetStatements(raw: DatabaseSync): void {
  caches.delete(raw);
}

/** A statement that returns rows as arrays (much faster for big reads; not yet in node:sqlite's types). */
function arrays(stmt: StatementSync): StatementSync {
  (stmt as StatementSync & { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  return stmt;
}
