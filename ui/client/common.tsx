// Small shared pieces: times with UTC on hover, category badges, type icons, empty and error states.
import type { ComponentChildren } from "preact";
import { localTime, relative, utcTime } from "./format.ts";
import { collectorNamed, label } from "./collectors.ts";

export function Time(props: { at: number; rel?: boolean }) {
  return (
    <time
      dateTime={new Date(props.at).toISOString()}
      title={`${localTime(props.at)} local · ${utcTime(props.at)}`}
    >
      {props.rel ? relative(props.at) : localTime(props.at)}
    </time>
  );
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
