// A line chart as SVG text. Written by hand because the report needs one
// small chart with log axes and a legend: a few dozen lines of string
// building, where a charting library would bring a browser-style DOM or a
// canvas build into a project that has neither.

export interface Series {
  name: string;
  /** [x, y] pairs; points with a non-positive or non-finite value are left out (log axes). */
  points: [number, number][];
  color: string;
  dashed?: boolean;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const usable = ([x, y]: [number, number]) => Number.isFinite(x) && Number.isFinite(y) && x > 0 && y > 0;

/** Powers of ten (and 2×, 5× between them when there are few) covering [lo, hi]. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const few = Math.log10(hi / lo) < 2.5;
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of few ? [1, 2, 5] : [1]) {
      const v = m * 10 ** e;
      if (v >= lo / 1.0001 && v <= hi * 1.0001) ticks.push(v);
    }
  }
  return ticks;
}

const label = (v: number) => (v >= 1000 ? `${v / 1000}k` : v >= 1 ? String(v) : String(Number(v.toPrecision(2))));

/** A log-log line chart: one polyline and one circle per point of each series. */
export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 780;
  const H = spec.height ?? 440;
  const m = { left: 70, right: 240, top: 40, bottom: 55 };
  const pts = spec.series.flatMap((s) => s.points.filter(usable));
  if (!pts.length) throw new Error('lineChart: no positive points to draw');
  const span = (vs: number[]) => {
    let lo = Math.min(...vs);
    let hi = Math.max(...vs);
    if (lo === hi) [lo, hi] = [lo / 2, hi * 2];
    return [lo / 1.15, hi * 1.15] as const;
  };
  const [x0, x1] = span(pts.map((p) => p[0]));
  const [y0, y1] = span(pts.map((p) => p[1]));
  const px = (x: number) => m.left + ((Math.log(x) - Math.log(x0)) / (Math.log(x1) - Math.log(x0))) * (W - m.left - m.right);
  const py = (y: number) => H - m.bottom - ((Math.log(y) - Math.log(y0)) / (Math.log(y1) - Math.log(y0))) * (H - m.top - m.bottom);
  const f = (n: number) => n.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(spec.title)}</text>`,
  ];
  for (const t of logTicks(x0, x1)) {
    out.push(`<line x1="${f(px(t))}" y1="${m.top}" x2="${f(px(t))}" y2="${H - m.bottom}" stroke="#ddd"/>`);
    out.push(`<text x="${f(px(t))}" y="${H - m.bottom + 16}" text-anchor="middle">${label(t)}</text>`);
  }
  for (const t of logTicks(y0, y1)) {
    out.push(`<line x1="${m.left}" y1="${f(py(t))}" x2="${W - m.right}" y2="${f(py(t))}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${f(py(t) + 4)}" text-anchor="end">${label(t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 14}" text-anchor="middle">${esc(spec.xLabel)} (log)</text>`);
  out.push(`<text transform="translate(18 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)} (log)</text>`);
  spec.series.forEach((s, i) => {
    const p = s.points.filter(usable).sort((a, b) => a[0] - b[0]);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (p.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${p.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(' ')}"/>`);
    for (const [x, y] of p) out.push(`<circle cx="${f(px(x))}" cy="${f(py(y))}" r="3.5" fill="${s.color}"/>`);
    const ly = m.top + 10 + i * 20;
    out.push(`<line x1="${W - m.right + 12}" y1="${ly}" x2="${W - m.right + 40}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${W - m.right + 46}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
