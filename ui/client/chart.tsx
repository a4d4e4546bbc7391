// The changes-over-time chart: stacked SVG bars per type, counts on hover or focus, a click (or Enter) filters
// the change list.
import { useState } from "preact/hooks";
import type { Histogram } from "./api.ts";
import { num } from "./format.ts";
import { formatTime, zoneChoice } from "./time.ts";
import { COLLECTORS, label } from "./collectors.ts";
import { navigate } from "./route.ts";

const ORDER = COLLECTORS.map((c) => c.name);

export function ChangesChart(props: { hist: Histogram; height?: number }) {
  const { hist } = props;
  const [hover, setHover] = useState<number | null>(null);
  const n = Math.max(1, Math.ceil((hist.until - hist.since) / hist.bucket));
  const buckets = Array.from(
    { length: n },
    (_, i) => ({ t: hist.since + i * hist.bucket, by: {} as Record<string, number>, total: 0 }),
  );
  for (const p of hist.points) {
    const i = Math.floor((p.t - hist.since) / hist.bucket);
    if (i < 0 || i >= n) continue;
    buckets[i].by[p.collector] = (buckets[i].by[p.collector] ?? 0) + p.n;
    buckets[i].total += p.n;
  }
  const max = Math.max(1, ...buckets.map((b) => b.total));
  const W = 800, H = props.height ?? 160;
  const bw = W / n;
  const h = hover === null ? null : buckets[hover];
  void zoneChoice.value;
  const short = (t: number) => formatTime(t, { seconds: false }).slice(5);
  const open = (b: { t: number }) => navigate("changes", { since: b.t, until: b.t + hist.bucket });
  return (
    <div class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="group"
        aria-label="Changes over time: one bar per period, Enter lists its changes"
        preserveAspectRatio="none"
      >
        <line x1="0" x2={W} y1={H} y2={H} class="axis" />
        {buckets.map((b, i) => {
          let y = H;
          return (
            <g
              key={b.t}
              class={hover === i ? "bar hover" : "bar"}
              tabIndex={b.total ? 0 : -1}
              role="link"
              aria-label={`${formatTime(b.t, { seconds: false })}: ${num(b.total)} changes`}
              onMouseEnter={() => setHover(i)}
              onMouseLeave={() => setHover(null)}
              onFocus={() => setHover(i)}
              onBlur={() => setHover(null)}
              onClick={() => open(b)}
              onKeyDown={(e) => {
                if (e.key === "Enter" || e.key === " ") {
                  e.preventDefault();
                  open(b);
                }
              }}
            >
              <rect x={i * bw} y={0} width={bw} height={H} class="hit" />
              {ORDER.filter((c) => b.by[c]).map((c) => {
                const bh = Math.max(1, (b.by[c] / max) * (H - 8));
                y -= bh;
                return (
                  <rect
                    key={c}
                    class={`seg s-${c}`}
                    x={i * bw + bw * 0.12}
                    y={y}
                    width={bw * 0.76}
                    height={bh}
                  />
                );
              })}
              <title>{`${formatTime(b.t)}: ${num(b.total)} changes`}</title>
            </g>
          );
        })}
      </svg>
      <div class="chart-axis">
        <span>{short(hist.since)}</span>
        <span>
          max {num(max)} per {hist.bucket >= 86400_000
            ? "day"
            : hist.bucket >= 3600_000
            ? `${hist.bucket / 3600_000} h`
            : `${hist.bucket / 60_000} min`}
        </span>
        <span>{short(hist.until)}</span>
      </div>
      <div class="chart-legend">
        {h
          ? (
            <span>
              <b>{formatTime(h.t, { seconds: false })}</b> · {num(h.total)} changes
              {ORDER.filter((c) => h.by[c]).map((c) => (
                <span key={c}>
                  · <i class={`dot s-${c}`} />
                  {label(c)} {num(h.by[c])}
                </span>
              ))}
            </span>
          )
          : ORDER.map((c) => (
            <span key={c} class="legend-item">
              <i class={`dot s-${c}`} />
              {label(c)}
            </span>
          ))}
      </div>
    </div>
  );
}
