// Fills a state database with many synthetic items and changes (bench and paging tests) in SQL, fast.
import type { OpenedDb } from "../../db/open.ts";
import { indexChanges } from "../../db/changes.ts";

const HOUR = 3600_000;

/** SQL expressions of synthetic software and file items for row number `i` (a column of the CTE). */
const SOFTWARE = `json_object(
  'SoftwareName', printf('pkg-%06d-%s', i, case i % 4 when 0 then 'lib' when 1 then 'tool' when 2 then 'daemon' else 'doc' end),
  'CurrentVersion', printf('%d.%d.%d-%d', i % 7, i % 13, i % 100, i % 3),
  'Architecture', case i % 3 when 0 then 'amd64' when 1 then 'all' else 'i386' end,
  'Publisher', printf('Maintainer %d <m%d@example.org>', i % 250, i % 250),
  'SoftwareDescription', printf('Synthetic package number %d for the bench', i),
  'Size', (i * 7919) % 9000000, 'SoftwareType', 'Package', 'Manager', 'dpkg', 'Status', 'installed',
  'InstalledAt', null)`;
const FILE = `json_object(
  'FileSystemPath', printf('/srv/bench/d%d/file-%d.conf', i % 100, i),
  'FileContentChecksum', printf('%064x', (i * 2654435761) % 4294967296),
  'Size', i % 65536, 'DateModified', strftime('%Y-%m-%dT%H:%M:%SZ', 1700000000 + i, 'unixepoch'),
  'Owner', 'root', 'Mode', '0644')`;

function rows(n: number): string {
  return `with recursive n(i) as (select 0 union all select i + 1 from n where i + 1 < ${n})`;
}

/**
 * Inserts `software` software items, `files` file items and `changes` change rows spread evenly over the
 * `spanMs` before `now` (alternating software and files; Modified, Added, Removed in turn).
 */
export function fillSynthetic(
  db: OpenedDb,
  opts: { software?: number; files?: number; changes?: number; now?: number; spanMs?: number },
): void {
  const now = Math.floor(opts.now ?? Date.now());
  const span = Math.floor(opts.spanMs ?? 30 * 24 * HOUR);
  const raw = db.raw;
  raw.exec("begin");
  try {
    if (opts.software) {
      raw.exec(
        `${
          rows(opts.software)
        } insert into items (collector, key, checksum, data, error, first_seen, changed_at)
        select 'software', 'dpkg:' || json_extract(d, '$.SoftwareName') || ':' || json_extract(d, '$.Architecture'),
          null, d, null, ${now - span}, ${now} from (select ${SOFTWARE} as d from n)`,
      );
    }
    if (opts.files) {
      raw.exec(
        `${rows(opts.files)} insert into items (collector, key, checksum, data, error, first_seen, changed_at)
        select 'files', json_extract(d, '$.FileSystemPath'), null, d, null, ${now - span}, ${now}
        from (select ${FILE} as d from n)`,
      );
    }
    const n = opts.changes ?? 0;
    if (n) {
      const lastId = () =>
        (raw.prepare("select coalesce(max(id), 0) as id from changes").get() as { id: number }).id;
      const before = lastId();
      raw.exec(
        `${
          rows(n)
        } insert into changes (run_id, at, collector, key, category, fields_changed, previous, current)
        select 1 + j / 1000, ${now} - (${span} * (${n} - j)) / ${n}, collector, key, category,
          case category when 'Modified' then fields else '[]' end,
          case category when 'Added' then null else prev end,
          case category when 'Removed' then null else d end
        from (
          select j, collector, d, category,
            case collector when 'files' then json_extract(d, '$.FileSystemPath')
              else 'dpkg:' || json_extract(d, '$.SoftwareName') || ':' || json_extract(d, '$.Architecture') end as key,
            case collector when 'files' then json_set(d, '$.FileContentChecksum', printf('%064d', 0))
              else json_set(d, '$.CurrentVersion', '0.0') end as prev,
            case collector when 'files' then '["FileContentChecksum"]' else '["CurrentVersion"]' end as fields
          from (
            select n.i as j, case n.i % 2 when 1 then 'files' else 'software' end as collector,
              case n.i % 3 when 0 then 'Modified' when 1 then 'Added' else 'Removed' end as category,
              case n.i % 2 when 1 then (select ${FILE} from (select n.i % 100000 as i))
                else (select ${SOFTWARE} from (select n.i % 100000 as i)) end as d
            from n))`,
      );
      // What the changes' writer keeps for the page (hourly counts, the trigram index of keys), in one pass.
      indexChanges(raw, before + 1, lastId());
    }
    raw.exec("commit");
  } catch (e) {
    raw.exec("rollback");
    throw e;
  }
}
