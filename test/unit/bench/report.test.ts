import t from 'tap';
import { leadingNumber, parseTables, renderTable, splitRow } from '../../../bench/lib/markdown.ts';
import { assembleReport, judge } from '../../../bench/lib/report.ts';
import { lineChart, logTicks } from '../../../bench/lib/svg-chart.ts';
import { pointsFromJson, pointsFromTable, syncChart } from '../../../bench/lib/sync-chart.ts';
import { parseIperf3Json } from '../../../bench/lib/iperf3.ts';
import { selectParts } from '../../../bench/lib/parts.ts';

/**
 * Well-formedness of the SVG: every tag closed in order, attribute values
 * quoted, no bare '<' or '&' in text. Enough to catch what a string-built
 * SVG gets wrong (escaping, a missing slash); there is no XML parser among
 * the project's dependencies.
 */
function xmlProblem(xml: string): string | null {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(text)) return `bare & in text near ${JSON.stringify(text.slice(0, 40))}`;
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) return `malformed tag at ${lt}: ${JSON.stringify(xml.slice(lt, lt + 40))}`;
    const [, close, name, , selfClose] = m;
    if (close) {
      if (stack.pop() !== name) return `</${name}> closes the wrong element`;
    } else if (!selfClose) stack.push(name);
    i = tag.lastIndex;
  }
  return stack.length ? `unclosed <${stack.join('>, <')}>` : null;
}

t.test('Markdown tables', async (t) => {
  const text = [
    'Caption line.',
    '',
    '| backend | services | full sync |',
    '|---|---:|:---:|',
    '| nft | 1000 | 1.07 s [0.34] |',
    '| legacy | 10,000 | 6.90 s [2.29] |',
    'text after',
    '| not | a table |',
    '',
    '| a \\| b | c |',
    '|---|---|',
    '| x | y |',
  ].join('\n');
  const tables = parseTables(text);
  t.equal(tables.length, 2, 'a row without a delimiter under it is not a table');
  t.same(tables[0].header, ['backend', 'services', 'full sync']);
  t.same(tables[0].rows, [['nft', '1000', '1.07 s [0.34]'], ['legacy', '10,000', '6.90 s [2.29]']]);
  t.same(tables[1].header, ['a | b', 'c'], 'an escaped bar stays inside its cell');
  t.same(splitRow('|  x  |y|'), ['x', 'y']);
  t.same(parseTables(renderTable(['p', 'q'], [['1|2', 3]])), [{ header: ['p', 'q'], rows: [['1|2', '3']] }], 'renderTable round-trips');
  const numbers = [
    { cell: '1.23 s [0.98]', want: 1.23 },
    { cell: '12,345', want: 12345 },
    { cell: '-0.5%', want: -0.5 },
  ];
  for (const { cell, want } of numbers) t.equal(leadingNumber(cell), want, cell);
  t.ok(Number.isNaN(leadingNumber('–')), 'a dash is no number');
});

t.test('the SVG line chart is well-formed XML with one circle per usable point', async (t) => {
  const svg = lineChart({
    title: 'a < b & "c"',
    xLabel: 'services',
    yLabel: 'seconds',
    series: [
      { name: 'one & two', color: '#000', points: [[1000, 1], [10000, 7], [30000, 20]] },
      { name: 'with unusable points', color: '#f00', dashed: true, points: [[1000, 0], [10000, Number.NaN], [30000, 3]] },
    ],
  });
  t.equal(xmlProblem(svg), null);
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.equal(svg.match(/<circle /g)?.length, 4, '3 + 1 usable points');
  t.equal(svg.match(/<polyline /g)?.length, 1, 'a single point draws no line');
  t.equal(/<polyline [^>]*points="([^"]*)"/.exec(svg)![1].split(' ').length, 3);
  t.match(svg, /stroke-dasharray/, 'dashed series');
  t.throws(() => lineChart({ title: '', xLabel: '', yLabel: '', series: [{ name: 'x', color: '#000', points: [[0, 0]] }] }), /no positive points/);
  t.same(logTicks(0.04, 40), [0.1, 1, 10], 'a range of three decades or more has decades only');
  t.same(logTicks(900, 12000), [1000, 2000, 5000, 10000], 'a narrower range has 2× and 5× ticks too');
  t.equal(xmlProblem('<svg><g></svg>'), '</svg> closes the wrong element', 'the checker itself catches a broken SVG');
});

t.test('the sync chart from --json rows and from the Markdown table agree', async (t) => {
  const json = [
    { mode: 'nft', services: 1000, full: { ms: 1070 }, partial: { ms: 50 }, floor: { ms: 830 } },
    { mode: 'nft', services: 10000, full: { ms: 21620 }, partial: { ms: 900 }, floor: { ms: 32390 } },
    { mode: 'legacy', services: 1000, full: { ms: 1000 }, partial: { ms: 210 }, floor: { ms: 470 } },
  ];
  const table = parseTables(
    [
      '| backend | services | rules | full sync | floor | resync | partial sync |',
      '|---|---|---|---|---|---|---|',
      '| nft | 1000 | 11308 | 1.07 s [0.34] | 0.83 s [0.23] | 1.34 s | 0.05 s [0.01] |',
      '| nft | 10000 | 113008 | 21.62 s [4.40] | 32.39 s [4.34] | 53.29 s | 0.90 s [0.13] |',
      '| legacy | 1000 | 11308 | 1.00 s [0.23] | 0.47 s [0.06] | 0.84 s | 0.21 s [0.04] |',
    ].join('\n'),
  )[0];
  t.same(pointsFromTable(table), pointsFromJson(json));
  const svg = syncChart(pointsFromJson(json));
  t.equal(xmlProblem(svg), null);
  t.equal(svg.match(/<circle /g)?.length, 9, '3 measures × 3 rows');
  t.equal(svg.match(/<polyline /g)?.length, 3, 'lines only for nft, which has two sizes');
  t.throws(() => pointsFromTable({ header: ['backend'], rows: [] }), /no "services" column/);
});

t.test('iperf3 -J reports', async (t) => {
  const ok = JSON.stringify({ end: { sum_received: { bits_per_second: 9.5e9 }, sum_sent: { retransmits: 4 } } });
  t.same(parseIperf3Json(ok), { gbps: 9.5, retransmits: 4 });
  t.throws(() => parseIperf3Json('{"error": "unable to connect to server: Connection refused"}'), /iperf3: unable to connect/);
  t.throws(() => parseIperf3Json('iperf3: error'), /no JSON report/);
  t.throws(() => parseIperf3Json('{"end": {}}'), /no end\.sum_received/);
});

t.test('the report: machine, part table, each part, failures kept', async (t) => {
  const parts = [
    judge({ name: 'good', command: 'npx node bench/a.ts', status: 'ok', seconds: 2, stdout: '| x |\n|---|\n| 1 |\n' }),
    judge({ name: 'tableless', command: 'npx node bench/b.ts', status: 'ok', seconds: 1, stdout: 'just text' }),
    judge({ name: 'broken', command: 'npx node bench/c.ts', status: 'failed', reason: 'exit status 1', stderr: 'Error: boom\n' }),
    { name: 'absent', command: 'npx node bench/d.ts', status: 'skipped' as const, reason: 'bench/d.ts does not exist (yet)' },
  ];
  t.equal(parts[1].status, 'failed', 'exit 0 without a table is a failure');
  const md = assembleReport({ facts: [['kernel', '6.1']], parts, mode: 'quick', totalSeconds: 12, notes: ['shared machine'] });
  t.match(md, /npm run bench -- --quick/);
  t.match(md, /\| kernel \| 6\.1 \|/);
  t.match(md, /> shared machine/);
  t.match(md, /\| tableless \| failed: printed no Markdown table \|/);
  t.match(md, /## broken\n\n`npx node bench\/c\.ts`\n\n\*\*Failed\*\*: exit status 1\.\n\n```\nError: boom\n```/);
  t.match(md, /## absent[\s\S]*Skipped: bench\/d\.ts does not exist/);
  t.equal(parseTables(md).length, 3, 'machine table, part table, the good part’s table');
});

t.test('--only selects by group or script name and rejects unknown names', async (t) => {
  t.same(selectParts('iperf').map((p) => p.script), ['bench/iperf.ts']);
  t.same(selectParts('ipam,conntrack').map((p) => p.script), ['bench/conntrack.ts', 'bench/ipam.ts'], 'in the table’s order');
  t.ok(selectParts('proxy').some((p) => p.script === 'bench/iptables-sync.ts'));
  t.throws(() => selectParts('iperf,nope'), /unknown part\(s\) nope/);
});
