// Line diff of two texts (Myers, with common prefix/suffix trimmed), grouped into hunks with context.
export type Op = " " | "-" | "+";

export interface DiffLine {
  op: Op;
  text: string;
  /** 1-based line number in the old text (absent for "+"). */
  a?: number;
  /** 1-based line number in the new text (absent for "-"). */
  b?: number;
}

export interface Hunk {
  aStart: number;
  aLen: number;
  bStart: number;
  bLen: number;
  lines: DiffLine[];
}

export interface Diff {
  hunks: Hunk[];
  added: number;
  removed: number;
  /** True when the texts differ too much for a minimal diff and the middle is shown as replaced. */
  approximate: boolean;
}

export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The edit script between a and b as a list of ops; `maxD` bounds the work (then the middle is replaced). */
function myers(a: string[], b: string[], maxD: number): { ops: Op[]; approximate: boolean } | null {
  const n = a.length, m = b.length, max = Math.min(n + m, maxD);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) x++, y++;
      v[off + k] = x;
      if (x >= n && y >= m) {
        // Walk the trace back to recover the ops.
        const ops: Op[] = [];
        let cx = n, cy = m;
        for (let dd = d; dd > 0; dd--) {
          const pv = trace[dd];
          const kk = cx - cy;
          const down = kk === -dd || (kk !== dd && pv[off + kk - 1] < pv[off + kk + 1]);
          const pk = down ? kk + 1 : kk - 1;
          const px = pv[off + pk], py = px - pk;
          while (cx > px && cy > py) ops.push(" "), cx--, cy--;
          ops.push(down ? "+" : "-");
          if (down) cy--;
          else cx--;
        }
        while (cx > 0 && cy > 0) ops.push(" "), cx--, cy--;
        return { ops: ops.reverse(), approximate: false };
      }
    }
  }
  return null;
}

export function diffLines(
  oldText: string,
  newText: string,
  opts: { context?: number; maxD?: number } = {},
): Diff {
  const context = opts.context ?? 3;
  const a = splitLines(oldText), b = splitLines(newText);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) {
    suf++;
  }
  const am = a.slice(pre, a.length - suf), bm = b.slice(pre, b.length - suf);
  let mid = myers(am, bm, opts.maxD ?? 2000);
  let approximate = false;
  if (!mid) {
    approximate = true;
    mid = { ops: [...am.map(() => "-" as Op), ...bm.map(() => "+" as Op)], approximate };
  }
  const ops: Op[] = [...Array(pre).fill(" "), ...mid.ops, ...Array(suf).fill(" ")];
  const lines: DiffLine[] = [];
  let ia = 0, ib = 0, added = 0, removed = 0;
  for (const op of ops) {
    if (op === " ") lines.push({ op, text: a[ia], a: ++ia, b: ++ib });
    else if (op === "-") lines.push({ op, text: a[ia], a: ++ia }), removed++;
    else lines.push({ op, text: b[ib], b: ++ib }), added++;
  }
  // A line is shown when it is a change or within `context` lines of one; shown runs become hunks.
  const shown = new Uint8Array(lines.length);
  lines.forEach((l, i) => {
    if (l.op === " ") return;
    for (let j = Math.max(0, i - context); j <= Math.min(lines.length - 1, i + context); j++) shown[j] = 1;
  });
  const hunks: Hunk[] = [];
  for (let i = 0; i < lines.length;) {
    if (!shown[i]) {
      i++;
      continue;
    }
    const start = i;
    while (i < lines.length && shown[i]) i++;
    const part = lines.slice(start, i);
    const aLen = part.filter((l) => l.op !== "+").length, bLen = part.filter((l) => l.op !== "-").length;
    // Like `diff -u`: an empty side starts at the line before.
    const aFirst = part.find((l) => l.a !== undefined)?.a, bFirst = part.find((l) => l.b !== undefined)?.b;
    const before = lines.slice(0, start);
    const aBefore = before.filter((l) => l.op !== "+").length,
      bBefore = before.filter((l) => l.op !== "-").length;
    hunks.push({ aStart: aFirst ?? aBefore, aLen, bStart: bFirst ?? bBefore, bLen, lines: part });
  }
  return { hunks, added, removed, approximate };
}

/** The longest piece of a line a summary shows (lines of minified files are long). */
const SAMPLE_MAX = 80;

/**
 * A change of a text file in one line: lines added and removed and, for the first line changed, what in it
 * (`workers = 8 → 16`: the words before, the old and the new part, the words after), or the first line added or
 * removed when nothing was replaced.
 */
export interface LineSummary {
  added: number;
  removed: number;
  sample?:
    | { op: "~"; before: string; old: string; new: string; after: string }
    | { op: "+" | "-"; text: string };
}

/** Words, runs of spaces, and single other characters: the units a replaced line is compared in. */
function tokens(line: string): string[] {
  return line.match(/[\p{L}\p{N}_.]+|\s+|[^\p{L}\p{N}_.\s]/gu) ?? [];
}

function clip(s: string, max: number, keep: "start" | "end"): string {
  if (s.length <= max) return s;
  return keep === "start" ? `${s.slice(0, max - 1)}…` : `…${s.slice(s.length - max + 1)}`;
}

/** The summary of a diff (see LineSummary). */
export function lineSummary(d: Diff): LineSummary {
  const out: LineSummary = { added: d.added, removed: d.removed };
  for (const h of d.hunks) {
    for (let i = 0; i < h.lines.length; i++) {
      const l = h.lines[i];
      if (l.op === " ") continue;
      // The first changed line: a removal followed (after more removals) by an addition is a replacement.
      let j = i;
      while (j < h.lines.length && h.lines[j].op === "-") j++;
      const added = h.lines[j]?.op === "+" ? h.lines[j] : undefined;
      if (l.op === "-" && added) out.sample = replaced(l.text.trim(), added.text.trim());
      else out.sample = { op: l.op, text: clip(l.text.trim(), SAMPLE_MAX, "start") };
      return out;
    }
  }
  return out;
}

/** A replaced line as the words around the part that changed, and that part before and after. */
function replaced(a: string, b: string): LineSummary["sample"] {
  const x = tokens(a), y = tokens(b);
  let pre = 0;
  while (pre < x.length && pre < y.length && x[pre] === y[pre]) pre++;
  let suf = 0;
  while (suf < x.length - pre && suf < y.length - pre && x[x.length - 1 - suf] === y[y.length - 1 - suf]) {
    suf++;
  }
  const part = (t: string[], from: number, to: number) => t.slice(from, to).join("");
  return {
    op: "~",
    before: clip(part(x, 0, pre), SAMPLE_MAX / 2, "end"),
    old: clip(part(x, pre, x.length - suf), SAMPLE_MAX / 2, "start"),
    new: clip(part(y, pre, y.length - suf), SAMPLE_MAX / 2, "start"),
    after: clip(part(x, x.length - suf, x.length), SAMPLE_MAX / 4, "start"),
  };
}
