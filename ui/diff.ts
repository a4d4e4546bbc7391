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
