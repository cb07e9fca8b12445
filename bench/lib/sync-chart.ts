// The proxy sync-time chart: full sync, partial sync and the iptables-restore
// floor against the number of services, one colour per measure, solid for
// the nft backend and dashed for legacy. Fed from `bench/iptables-sync.ts
// --json`, or from its Markdown table when only that exists.

import { leadingNumber } from './markdown.ts';
import type { MarkdownTable } from './markdown.ts';
import { lineChart } from './svg-chart.ts';
import type { Series } from './svg-chart.ts';

/** One measured size of one backend, in seconds of wall time. */
export interface SyncPoint {
  backend: string;
  services: number;
  full: number;
  partial: number;
  floor: number;
}

/** Rows as `iptables-sync.ts --json` writes them (times in ms). */
export function pointsFromJson(rows: { mode: string; services: number; full: { ms: number }; partial: { ms: number }; floor: { ms: number } }[]): SyncPoint[] {
  return rows.map((r) => ({ backend: r.mode, services: r.services, full: r.full.ms / 1000, partial: r.partial.ms / 1000, floor: r.floor.ms / 1000 }));
}

/** The same from the Markdown table (cells such as `1.23 s [0.98]`: wall seconds first). */
export function pointsFromTable(t: MarkdownTable): SyncPoint[] {
  const col = (name: string) => {
    const i = t.header.indexOf(name);
    if (i < 0) throw new Error(`sync table has no "${name}" column`);
    return i;
  };
  const [b, n, full, partial, floor] = ['backend', 'services', 'full sync', 'partial sync', 'floor'].map(col);
  return t.rows.map((r) => ({
    backend: r[b],
    services: leadingNumber(r[n]),
    full: leadingNumber(r[full]),
    partial: leadingNumber(r[partial]),
    floor: leadingNumber(r[floor]),
  }));
}

const COLORS = { full: '#1f77b4', partial: '#ff7f0e', floor: '#555555' } as const;
const LABELS = { full: 'full sync', partial: 'partial sync', floor: 'iptables-restore floor' } as const;

export function syncChart(points: SyncPoint[]): string {
  const series: Series[] = [];
  const backends = [...new Set(points.map((p) => p.backend))].sort((a, b) => (a === 'nft' ? -1 : b === 'nft' ? 1 : a.localeCompare(b)));
  for (const backend of backends) {
    const mine = points.filter((p) => p.backend === backend);
    for (const what of ['full', 'partial', 'floor'] as const) {
      series.push({ name: `${backend}: ${LABELS[what]}`, color: COLORS[what], dashed: backend !== 'nft', points: mine.map((p) => [p.services, p[what]]) });
    }
  }
  return lineChart({ title: 'netlet proxy sync time (iptables backend, 3 endpoints per service)', xLabel: 'services', yLabel: 'seconds, wall clock', series });
}
