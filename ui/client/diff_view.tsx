// File content diff between two captured versions: unified, or side by side on wide screens.
import { useState } from "preact/hooks";
import { type Diff, type DiffLine, query } from "./api.ts";
import { ErrorBox } from "./common.tsx";
import { num } from "./format.ts";
import { useFetch } from "./use_fetch.ts";

function Unified(props: { diff: Diff }) {
  return (
    <table class="diff unified">
      <colgroup>
        <col class="ln" />
        <col class="ln" />
        <col />
      </colgroup>
      {props.diff.hunks.map((h, i) => (
        <tbody key={i}>
          <tr class="hunk">
            <td colSpan={3}>@@ -{h.aStart},{h.aLen} +{h.bStart},{h.bLen} @@</td>
          </tr>
          {h.lines.map((l, j) => (
            <tr key={j} class={l.op === "+" ? "add" : l.op === "-" ? "del" : "ctx"}>
              <td class="ln">{l.a ?? ""}</td>
              <td class="ln">{l.b ?? ""}</td>
              <td class="code">
                <span class="op">{l.op}</span>
                {l.text}
              </td>
            </tr>
          ))}
        </tbody>
      ))}
    </table>
  );
}

/** Pairs removed and added lines of each run of changes into rows. */
function rows(lines: DiffLine[]): [DiffLine | null, DiffLine | null][] {
  const out: [DiffLine | null, DiffLine | null][] = [];
  for (let i = 0; i < lines.length;) {
    if (lines[i].op === " ") {
      out.push([lines[i], lines[i]]);
      i++;
      continue;
    }
    const del: DiffLine[] = [], add: DiffLine[] = [];
    while (i < lines.length && lines[i].op !== " ") (lines[i].op === "-" ? del : add).push(lines[i++]);
    for (let k = 0; k < Math.max(del.length, add.length); k++) out.push([del[k] ?? null, add[k] ?? null]);
  }
  return out;
}

function Split(props: { diff: Diff }) {
  return (
    <table class="diff split">
      <colgroup>
        <col class="ln" />
        <col />
        <col class="ln" />
        <col />
      </colgroup>
      {props.diff.hunks.map((h, i) => (
        <tbody key={i}>
          <tr class="hunk">
            <td colSpan={4}>@@ -{h.aStart},{h.aLen} +{h.bStart},{h.bLen} @@</td>
          </tr>
          {rows(h.lines).map(([l, r], j) => (
            <tr key={j}>
              <td class="ln">{l?.a ?? ""}</td>
              <td class={`code ${l ? (l.op === "-" ? "del" : "ctx") : "none"}`}>{l?.text ?? ""}</td>
              <td class="ln">{r?.b ?? ""}</td>
              <td class={`code ${r ? (r.op === "+" ? "add" : "ctx") : "none"}`}>{r?.text ?? ""}</td>
            </tr>
          ))}
        </tbody>
      ))}
    </table>
  );
}

export function DiffView(props: { from: string; to: string; path: string }) {
  const [mode, setMode] = useState<"unified" | "split">(innerWidth >= 1400 ? "split" : "unified");
  const res = useFetch<Diff>("diff" + query({ from: props.from, to: props.to, key: props.path }));
  if (res.error) return <ErrorBox error={res.error} />;
  const d = res.data;
  if (!d) return <div class="dim">Loading diff…</div>;
  return (
    <div class="diffbox">
      <div class="diff-head">
        <span>
          <ins>+{num(d.added)}</ins> <del>−{num(d.removed)}</del>
          {d.approximate ? " (large change, shown as replaced)" : ""}
        </span>
        <div class="seg-buttons" role="group" aria-label="Diff layout">
          <button type="button" aria-pressed={mode === "unified"} onClick={() => setMode("unified")}>
            Unified
          </button>
          <button type="button" aria-pressed={mode === "split"} onClick={() => setMode("split")}>
            Side by side
          </button>
        </div>
      </div>
      {d.hunks.length === 0
        ? <div class="dim">The two versions have the same text.</div>
        : mode === "unified"
        ? <Unified diff={d} />
        : <Split diff={d} />}
    </div>
  );
}
