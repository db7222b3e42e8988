import type { Day } from "../types";

const SERIES: [keyof Day, string][] = [["enrolled", "enrolled"], ["sent", "sent"],
  ["replied", "replied"], ["converted", "converted"]];
const WIDTH = 600;
const HEIGHT = 160;

/** Bars per day in inline SVG: one group per day, one bar per series. */
export function DailyChart(props: { days: Day[] }) {
  const days = props.days;
  const top = Math.max(1, ...days.flatMap((d) => SERIES.map(([k]) => Number(d[k]))));
  const slot = WIDTH / Math.max(1, days.length);
  const bar = Math.max(1, (slot - 2) / SERIES.length);
  const total = (k: keyof Day) => days.reduce((n, d) => n + Number(d[k]), 0);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + 20}`} role="img"
        aria-label={`Daily counts over ${days.length} days`} preserveAspectRatio="none">
        <line x1="0" y1={HEIGHT} x2={WIDTH} y2={HEIGHT} class="axis" />
        {days.map((d, i) => SERIES.map(([k], j) => {
          const h = (Number(d[k]) / top) * (HEIGHT - 4);
          return (
            <rect key={`${d.date}-${k}`} class={`series-${j}`} x={i * slot + 1 + j * bar}
              y={HEIGHT - h} width={bar} height={h}>
              <title>{`${d.date} ${k}: ${d[k]}`}</title>
            </rect>
          );
        }))}
        {days.length ? <text x="0" y={HEIGHT + 16} class="tick">{days[0].date}</text> : null}
        {days.length > 1 ? (
          <text x={WIDTH} y={HEIGHT + 16} class="tick end">{days[days.length - 1].date}</text>
        ) : null}
      </svg>
      <figcaption>
        <ul class="legend">
          {SERIES.map(([k, label], j) => (
            <li key={k}><span class={`swatch series-${j}`} aria-hidden="true" />{label}:{" "}
              <span data-daily-total={k}>{total(k)}</span></li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
