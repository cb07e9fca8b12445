// Assembling bench/results/report.md from the machine facts and each part's
// output. Pure: the runner passes in what it measured.

import { parseTables, renderTable } from './markdown.ts';

export interface PartResult {
  name: string;
  /** What was run, e.g. `npx node bench/ipam.ts --allocs 5000`. */
  command: string;
  status: 'ok' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  reason?: string;
  seconds?: number;
  stdout?: string;
  stderr?: string;
}

const tail = (s: string, lines: number) => s.trimEnd().split('\n').slice(-lines).join('\n');

/** A part that exits 0 but prints no table failed to report anything: say so rather than show nothing. */
export function judge(r: PartResult): PartResult {
  if (r.status === 'ok' && !parseTables(r.stdout ?? '').length) return { ...r, status: 'failed', reason: 'printed no Markdown table' };
  return r;
}

export function assembleReport(opts: { facts: [string, string][]; parts: PartResult[]; mode: string; totalSeconds: number; notes?: string[] }): string {
  const out: string[] = ['# netlet benchmark report', ''];
  out.push(`Run: \`npm run bench${opts.mode === 'default' ? '' : ` -- --${opts.mode}`}\` (${opts.mode} sizes), ${opts.totalSeconds.toFixed(0)} s in all.`, '');
  out.push(renderTable(['machine', ''], opts.facts), '');
  for (const n of opts.notes ?? []) out.push(`> ${n}`, '');
  out.push(
    renderTable(
      ['part', 'status', 'seconds', 'command'],
      opts.parts.map((p) => [p.name, p.status + (p.reason ? `: ${p.reason}` : ''), p.seconds === undefined ? '–' : p.seconds.toFixed(1), `\`${p.command}\``]),
    ),
    '',
  );
  for (const p of opts.parts) {
    out.push(`## ${p.name}`, '', `\`${p.command}\``, '');
    if (p.status === 'skipped') {
      out.push(`Skipped: ${p.reason}.`, '');
      continue;
    }
    if (p.status === 'failed') {
      out.push(`**Failed**: ${p.reason}.`, '');
      const err = tail(p.stderr ?? '', 15);
      if (err) out.push('```', err, '```', '');
    }
    if (p.stdout?.trim()) out.push(p.stdout.trim(), '');
  }
  return out.join('\n');
}
