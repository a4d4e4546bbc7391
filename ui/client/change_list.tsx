// A list of changes: time, type, category, name, and what changed as `field: old → new` (times and sizes
// written as the page writes them everywhere).
import type { ChangeRow } from "./api.ts";
import { Badge, Time, TypeIcon, Value } from "./common.tsx";
import { itemName, show } from "./format.ts";
import { cell } from "./cell.ts";
import { collectorNamed } from "./collectors.ts";
import { setParams } from "./route.ts";
import { isoTime } from "./time.ts";
import { Reviewed } from "./review.tsx";

function short(v: unknown, max = 60): string {
  const s = show(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A field's value as its column writes it (a size with its unit), a time as a time, else shortened text. */
function FieldValue(
  props: { collector: string; field: string; v: unknown; data: Record<string, unknown> | null },
) {
  const col = collectorNamed(props.collector)?.columns.find((c) => c.field === props.field);
  if (col?.format) return <>{cell(col, props.v, props.data)}</>;
  if (isoTime(props.v) !== undefined) return <Value v={props.v} />;
  return <>{short(props.v, 40)}</>;
}

/** A field's name as its column labels it. */
function fieldLabel(collector: string, field: string): string {
  return collectorNamed(collector)?.columns.find((c) => c.field === field)?.label ?? field;
}

export function ChangeFields(props: { change: ChangeRow; max?: number }) {
  const c = props.change;
  const page = collectorNamed(c.collector)?.page;
  if (c.category !== "Modified") {
    const d = c.current ?? c.previous;
    const f = page?.summary;
    if (f === undefined || d?.[f] === undefined || d[f] === null) return null;
    return (
      <span class="fields">
        <span class="fname">{fieldLabel(c.collector, f)}</span>{" "}
        <FieldValue collector={c.collector} field={f} v={d[f]} data={d} />
      </span>
    );
  }
  // What people look for first (the spec says: content, version, state); timestamps and sizes follow from those.
  const important = page?.important ?? [];
  const rank = (f: string) => important.indexOf(f) < 0 ? important.length : important.indexOf(f);
  const fields = [...c.fields_changed].sort((a, b) => rank(a) - rank(b)).slice(0, props.max ?? 4);
  return (
    <span class="fields">
      {fields.map((f) => (
        <span class="field" key={f}>
          <span class="fname">{f}</span>:{" "}
          <del>
            <FieldValue collector={c.collector} field={f} v={c.previous?.[f]} data={c.previous} />
          </del>{" "}
          →{" "}
          <ins>
            <FieldValue collector={c.collector} field={f} v={c.current?.[f]} data={c.current} />
          </ins>
        </span>
      ))}
      {c.fields_changed.length > fields.length && (
        <span class="more">+{c.fields_changed.length - fields.length} more</span>
      )}
    </span>
  );
}

/**
 * Who made a change, as realtime saw it: "changed by `vim /etc/nginx/nginx.conf` (pid 4242, user alice)"; why
 * not, when the process could not be named; nothing when a scan found it.
 */
export function ChangedBy(props: { change: ChangeRow }) {
  const o = props.change.origin;
  if (!o?.ProcessId) return null;
  const what = o.ProcessCommandLine ?? o.ProcessPath ?? o.ProcessName;
  const user = o.UserName ?? (o.UserId !== undefined ? `uid ${o.UserId}` : undefined);
  const facts = [
    `pid ${o.ProcessId}`,
    user && `user ${user}`,
    o.LoginUserName && `logged in as ${o.LoginUserName}`,
    o.ParentProcessName && `parent ${o.ParentProcessName}`,
  ].filter(Boolean).join(", ");
  return (
    <span class="by" title={o.ProcessPath ?? o.ProcessNote}>
      changed by {what ? <code>{short(what, 80)}</code> : "a process"} ({facts})
      {o.ProcessNote && <span class="dim">— {o.ProcessNote}</span>}
    </span>
  );
}

/**
 * Paths show their last segment first (it is what differs), the folder after it, dimmed; a long folder loses
 * its beginning, never its end (the part that tells keys apart).
 */
export function Name(props: { collector: string; name: string }) {
  const { name } = props;
  const cut = collectorNamed(props.collector)?.page.path
    ? Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\"))
    : -1;
  if (cut <= 0 || cut === name.length - 1) {
    return (
      <span class="name" title={name}>
        <span class="leaf">{name}</span>
      </span>
    );
  }
  return (
    <span class="name" title={name}>
      <span class="leaf">{name.slice(cut + 1)}</span>{" "}
      <span class="dir">
        <span>{name.slice(0, cut + 1)}</span>
      </span>
    </span>
  );
}

export function ChangeList(props: { rows: ChangeRow[] }) {
  return (
    <ul class="changes">
      {props.rows.map((c) => (
        <li key={c.id}>
          <button
            type="button"
            class="change"
            onClick={() => setParams({ item: `${c.collector}|${c.key}` })}
          >
            <span class="when">
              <Time at={c.at} rel />
            </span>
            <TypeIcon collector={c.collector} />
            <Badge category={c.category} />
            <Name collector={c.collector} name={itemName(c.collector, c.current ?? c.previous, c.key)} />
            <ChangeFields change={c} />
            <ChangedBy change={c} />
            {c.ack && <Reviewed change={c} />}
          </button>
        </li>
      ))}
    </ul>
  );
}
