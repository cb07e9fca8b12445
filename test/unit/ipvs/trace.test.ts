// `netlet trace` in IPVS mode, over a table as the kernel dumps it.
import t from 'tap';
import { describeIpvsTrace, traceTable } from '../../../src/ipvs/trace.ts';
import type { IpvsState } from '../../../src/ipvs/table-diff.ts';

const state: IpvsState = new Map([
  [
    'tcp/10.96.0.10/80',
    {
      service: { family: 4, protocol: 'tcp', address: '10.96.0.10', port: 80, scheduler: 'rr', flags: 1, timeout: 600 },
      dests: new Map([
        ['10.244.2.2:8080', { address: '10.244.2.2', port: 8080, weight: 1 }],
        ['10.244.1.2:8080', { address: '10.244.1.2', port: 8080, weight: 1 }],
        ['10.244.3.9:8080', { address: '10.244.3.9', port: 8080, weight: 0 }],
      ]),
    },
  ],
  ['tcp/10.96.0.12/80', { service: { family: 4, protocol: 'tcp', address: '10.96.0.12', port: 80, scheduler: 'rr', flags: 0, timeout: 0 }, dests: new Map() }],
]);

const cases: Array<{ name: string; dst: string; port: number; verdict: string; words: RegExp }> = [
  { name: 'load-balanced, affinity and a draining server', dst: '10.96.0.10', port: 80, verdict: 'load-balanced', words: /persistent 600s.*\n.*10\.244\.1\.2:8080, 10\.244\.2\.2:8080\n  draining .*10\.244\.3\.9:8080/ },
  { name: 'no real server: refused', dst: '10.96.0.12', port: 80, verdict: 'refused', words: /the connection is refused/ },
  { name: 'no virtual server', dst: '10.96.0.10', port: 22, verdict: 'not a service', words: /not a service/ },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const req = { packet: { src: '10.244.3.2', dst: c.dst, port: c.port, proto: 'tcp' as const }, localAddresses: [] };
    const o = traceTable(state, req);
    t.equal(o.verdict, c.verdict);
    t.match(describeIpvsTrace(req, o), c.words);
  });
}
