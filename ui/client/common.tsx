// Small shared pieces: times in the chosen zone with UTC on hover, category badges, type icons, empty and error
// states, field values (ISO times shown as times).
import type { ComponentChildren } from "preact";
import { formatTime, isoTime, relative, timeTitle, zoneChoice } from "./time.ts";
import { show } from "./format.ts";
import { cell } from "./cell.ts";
import { collectorNamed, fieldSpec, label } from "./collectors.ts";

/** A time: in the chosen zone (with it named), or relative (`rel`) with the time on hover. */
export function Time(props: { at: number; rel?: boolean; raw?: string }) {
  void zoneChoice.value; // re-render when the zone changes
  return (
    <time
      dateTime={new Date(props.at).toISOString()}
      title={props.raw ? `${timeTitle(props.at)} · as stored: ${props.raw}` : timeTitle(props.at)}
    >
      {props.rel ? relative(props.at) : formatTime(props.at)}
    </time>
  );
}

/** An item field's value: an ISO time as a time, anything else as text. */
export function Value(props: { v: unknown }) {
  const t = isoTime(props.v);
  return t === undefined ? <>{show(props.v)}</> : <Time at={t} raw={props.v as string} />;
}

/**
 * An item field's value as its spec writes it: a size with its unit (the exact number on hover), a hash
 * shortened (whole on hover), a time in the page's format; other text shortened to `max` characters.
 */
export function FieldValue(
  props: { collector: string; field: string; v: unknown; data: Record<string, unknown> | null; max?: number },
) {
  const spec = fieldSpec(props.collector, props.field);
  const { v } = props;
  if (spec?.format === "bytes" && typeof v === "number") {
    const kib = spec.kibWhen && props.data?.[spec.kibWhen.field] === spec.kibWhen.value;
    return (
      <span title={`${v.toLocaleString("en")} ${kib ? "KiB" : "bytes"}`}>{cell(spec, v, props.data)}</span>
    );
  }
  if (spec?.format === "hash" && typeof v === "string") return <span title={v}>{cell(spec, v)}</span>;
  if (isoTime(v) !== undefined) return <Value v={v} />;
  const s = show(v);
  const max = props.max ?? Infinity;
  return s.length > max ? <span title={s}>{s.slice(0, max - 1)}…</span> : <>{s}</>;
}

export function Badge(props: { category: string }) {
  return <span class={`badge badge-${props.category.toLowerCase()}`}>{props.category}</span>;
}

export function TypeIcon(props: { collector: string }) {
  return (
    <span class={`ticon t-${props.collector}`} title={label(props.collector)}>
      {collectorNamed(props.collector)?.page.icon ?? "?"}
    </span>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="empty">{props.children}</div>;
}

export function ErrorBox(props: { error: string }) {
  return <div class="errorbox" role="alert">{props.error}</div>;
}

export function Pill(props: { level: string; children: ComponentChildren; title?: string }) {
  return <span class={`pill pill-${props.level}`} title={props.title}>{props.children}</span>;
}

/** `text` with every case-insensitive occurrence of `q` marked; pieces stay text nodes, never HTML. */
export function Highlight(props: { text: string; q?: string }) {
  const { text } = props;
  const q = props.q?.trim().toLowerCase();
  if (!q) return <>{text}</>;
  const lower = text.toLowerCase();
  const parts = [];
  let at = 0;
  for (let i = lower.indexOf(q); i >= 0 && parts.length < 40; i = lower.indexOf(q, at)) {
    if (i > at) parts.push(text.slice(at, i));
    parts.push(<mark key={i}>{text.slice(i, i + q.length)}</mark>);
    at = i + q.length;
  }
  parts.push(text.slice(at));
  return <>{parts}</>;
}
