// A list of changes: time, type, category, name, and what changed as `field: old → new` (times and sizes
// written as the page writes them everywhere).
import { useState } from "preact/hooks";
import { type ChangeRow, type Group, type LineSummary, type Page, query } from "./api.ts";
import { Badge, FieldValue, Time, TypeIcon } from "./common.tsx";
import { itemName, nouns, num, shownPath } from "./format.ts";
import { collectorNamed } from "./collectors.ts";
import { formatHash, setParams } from "./route.ts";
import { AckButton, Reviewed } from "./review.tsx";
import { useFetch } from "./use_fetch.ts";

/** A field's name as its column labels it. */
function fieldLabel(collector: string, field: string): string {
  return collectorNamed(collector)?.columns.find((c) => c.field === field)?.label ?? field;
}

/** A text file's change by its lines: `+1 −1 lines: workers = 8 → 16`. */
export function Lines(props: { lines: LineSummary }) {
  const { added, removed, sample } = props.lines;
  const n = added + removed;
  return (
    <span class="field lines">
      {added > 0 && <ins>+{num(added)}</ins>}
      {added > 0 && removed > 0 && " "}
      {removed > 0 && <del>−{num(removed)}</del>} {n === 1 ? "line" : "lines"}
      {sample?.op === "~" && (
        <>
          :{" "}
          <span class="mono">
            {sample.before}
            <del>{sample.old}</del> → <ins>{sample.new}</ins>
            {sample.after}
          </span>
        </>
      )}
      {(sample?.op === "+" || sample?.op === "-") && (
        <>
          :{" "}
          <span class="mono">{sample.op === "+" ? <ins>{sample.text}</ins> : <del>{sample.text}</del>}</span>
        </>
      )}
    </span>
  );
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
        <FieldValue collector={c.collector} field={f} v={d[f]} data={d} max={40} />
      </span>
    );
  }
  // What people look for first (the spec says: content, version, state); timestamps and sizes follow from those.
  // A content change said by its lines stands for the checksum field that moved with it.
  const checksum = c.lines ? collectorNamed(c.collector)?.contentField : undefined;
  const important = page?.important ?? [];
  const rank = (f: string) => important.indexOf(f) < 0 ? important.length : important.indexOf(f);
  const all = c.fields_changed.filter((f) => f !== checksum);
  const fields = [...all].sort((a, b) => rank(a) - rank(b)).slice(0, (props.max ?? 4) - (c.lines ? 1 : 0));
  return (
    <span class="fields">
      {c.quiet && <span class="tag" title="only times changed">timestamp only</span>}
      {c.lines && <Lines lines={c.lines} />}
      {fields.map((f) => (
        <span class="field" key={f}>
          <span class="fname">{fieldLabel(c.collector, f)}</span>:{" "}
          <del>
            <FieldValue collector={c.collector} field={f} v={c.previous?.[f]} data={c.previous} max={40} />
          </del>{" "}
          →{" "}
          <ins>
            <FieldValue collector={c.collector} field={f} v={c.current?.[f]} data={c.current} max={40} />
          </ins>
        </span>
      ))}
      {all.length > fields.length && <span class="more">+{all.length - fields.length} more</span>}
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
      changed by {what ? <code>{what.length > 80 ? what.slice(0, 79) + "…" : what}</code> : "a process"}{" "}
      ({facts})
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

/** The filters of the list a row is in (a folded run, opened, lists its changes under the same ones). */
export type ListFilters = Record<string, string | undefined>;

export function ChangeList(props: { rows: ChangeRow[]; filters?: ListFilters }) {
  return (
    <ul class="changes">
      {props.rows.map((c) =>
        c.group
          ? <FoldedRun key={c.id} change={c} group={c.group} filters={props.filters ?? {}} />
          : (
            <li key={c.id}>
              <ChangeRowButton c={c} />
            </li>
          )
      )}
    </ul>
  );
}

function ChangeRowButton(props: { c: ChangeRow }) {
  const { c } = props;
  return (
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
  );
}

/** What a folded run did: "100 files modified under /etc/nginx/conf.d", or "changed" with the categories. */
export function foldedText(collector: string, g: Group): string {
  const [one, many] = nouns(collector);
  const cats = Object.entries(g.categories);
  const what = cats.length === 1 ? cats[0][0].toLowerCase() : "changed";
  const under = g.under ? ` under ${shownPath(collector, g.under)}` : "";
  const parts = cats.length > 1
    ? ` (${cats.map(([k, n]) => `${num(n)} ${k.toLowerCase()}`).join(", ")})`
    : "";
  return `${num(g.n)} ${g.n === 1 ? one : many} ${what}${under}${parts}`;
}

/** A run's mass change as one row; opened, its changes (the first page of them, and a link to all). */
function FoldedRun(props: { change: ChangeRow; group: Group; filters: ListFilters }) {
  const { change: c, group: g } = props;
  const [open, setOpen] = useState(false);
  const cats = Object.keys(g.categories);
  const filters = { ...props.filters, run: String(g.run), group: "0", page: undefined, q: undefined };
  const res = useFetch<Page<ChangeRow>>(open ? "changes" + query({ ...filters, limit: 100 }) : null);
  return (
    <li class="folded">
      <button type="button" class="change" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span class="when">
          <Time at={c.at} rel />
        </span>
        <TypeIcon collector={c.collector} />
        {cats.length === 1 ? <Badge category={cats[0]} /> : <span class="badge badge-mixed">Changed</span>}
        <span class="name">
          <span class="leaf">{foldedText(c.collector, g)}</span>
        </span>
        <span class="more">{open ? "▾ hide" : "▸ show"}</span>
        {c.ack && <Reviewed change={c} />}
      </button>
      {open && res.data && (
        <div class="folded-rows">
          {!c.ack && <AckButton subject={{ run: g.run }} count={0} label="Acknowledge this run…" />}
          <ChangeList rows={res.data.rows} />
          {res.data.total > res.data.rows.length && (
            <a href={formatHash("changes", { ...filters, group: undefined })}>
              All {num(res.data.total)} changes of this run →
            </a>
          )}
        </div>
      )}
    </li>
  );
}
