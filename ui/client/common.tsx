// Small shared pieces: times with UTC on hover, category badges, type icons, empty and error states.
import type { ComponentChildren } from "preact";
import { LABELS, localTime, relative, utcTime } from "./format.ts";

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

const ICONS: Record<string, string> = { software: "S", services: "D", files: "F", registry: "R" };

export function TypeIcon(props: { collector: string }) {
  return (
    <span class={`ticon t-${props.collector}`} title={LABELS[props.collector] ?? props.collector}>
      {ICONS[props.collector] ?? "?"}
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
