// The packet tracer over a table netlet rendered and nft listed as JSON
// (fixtures/table-v4.json: web with two endpoints and NodePort 30080; lp
// with affinity, NodePort 30084, a Local external policy and an endpoint on
// another node; lb with LB IP 192.0.2.200 admitting 10.0.0.0/8).

import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseTableJson } from '../../../src/nftables/trace/table-json.ts';
import { traceTable } from '../../../src/nftables/trace/tracer.ts';
import type { TracePacket } from '../../../src/proxier/backend-kind.ts';

const table = parseTableJson(readFileSync(new URL('./fixtures/table-v4.json', import.meta.url), 'utf8'));
const NODE = '192.168.100.1';

const rows: { name: string; pkt: TracePacket; want: string[] }[] = [
  { name: 'ClusterIP from a pod: either endpoint, source kept', pkt: { src: '10.244.3.2', dst: '10.96.0.10', port: 80, proto: 'tcp' }, want: ['dnat 10.244.1.2:8080', 'dnat 10.244.2.2:8080'] },
  { name: 'ClusterIP from outside the pod CIDR: masqueraded', pkt: { src: '192.168.100.2', dst: '10.96.0.10', port: 80, proto: 'tcp' }, want: ['dnat 10.244.1.2:8080 masq', 'dnat 10.244.2.2:8080 masq'] },
  { name: 'NodePort, Cluster policy: masqueraded', pkt: { src: '192.168.100.2', dst: NODE, port: 30080, proto: 'tcp' }, want: ['dnat 10.244.1.2:8080 masq', 'dnat 10.244.2.2:8080 masq'] },
  { name: 'NodePort, Local policy, from outside: the local endpoint only, source kept', pkt: { src: '192.168.100.2', dst: NODE, port: 30084, proto: 'tcp' }, want: ['dnat 10.244.1.2:8080'] },
  { name: 'NodePort, Local policy, from a pod: every cluster endpoint', pkt: { src: '10.244.3.2', dst: NODE, port: 30084, proto: 'tcp' }, want: ['dnat 10.244.1.2:8080', 'dnat 10.244.9.9:8080'] },
  { name: 'a pod reaching itself: hairpin masquerade', pkt: { src: '10.244.1.2', dst: '10.96.0.20', port: 80, proto: 'tcp' }, want: ['dnat 10.244.1.2:8080 masq'] },
  { name: 'LB IP from inside the source ranges', pkt: { src: '10.1.2.3', dst: '192.0.2.200', port: 80, proto: 'tcp' }, want: ['dnat 10.244.1.2:8080 masq'] },
  { name: 'LB IP from outside the source ranges: dropped', pkt: { src: '192.168.100.2', dst: '192.0.2.200', port: 80, proto: 'tcp' }, want: ['drop'] },
  { name: 'not a service: accepted untouched', pkt: { src: '10.244.3.2', dst: '10.96.0.99', port: 80, proto: 'tcp' }, want: ['accept'] },
  { name: 'another protocol on a service port: untouched', pkt: { src: '10.244.3.2', dst: '10.96.0.10', port: 80, proto: 'udp' }, want: ['accept'] },
];

const summary = (o: { verdict: string; endpoint?: string; masqueraded: boolean }) => `${o.verdict}${o.endpoint ? ` ${o.endpoint}` : ''}${o.masqueraded ? ' masq' : ''}`;

for (const row of rows) {
  t.test(row.name, async (t) => {
    t.same(traceTable(table, row.pkt, [NODE]).map(summary).sort(), row.want);
  });
}

t.test('the path names the chains and rules', async (t) => {
  const [o] = traceTable(table, { src: '192.168.100.2', dst: NODE, port: 30084, proto: 'tcp' }, [NODE]);
  t.same(o.path, ['nat-prerouting #1', 'services #4', 'nodeports #1', 'ext_default_lp_http_tcp #4', 'svl_default_lp_http_tcp #2', 'sep_default_lp_http_tcp_10-244-1-2-8080 #1']);
});

t.test('IPv6 (fixtures/table-v6.json: web6 with two endpoints and NodePort 30100, empty6 without endpoints)', async (t) => {
  const v6 = parseTableJson(readFileSync(new URL('./fixtures/table-v6.json', import.meta.url), 'utf8'));
  const node6 = 'fd00:100::1';
  const trace = (pkt: TracePacket) => traceTable(v6, pkt, [node6]).map(summary).sort();
  t.same(trace({ src: 'fd00:244:3::2', dst: 'fd00:96::10', port: 80, proto: 'tcp' }), ['dnat [fd00:244:1::2]:8080', 'dnat [fd00:244:2::2]:8080'], 'ClusterIP from a pod');
  t.same(trace({ src: 'fd00:100::2', dst: node6, port: 30100, proto: 'tcp' }), ['dnat [fd00:244:1::2]:8080 masq', 'dnat [fd00:244:2::2]:8080 masq'], 'NodePort from outside');
  t.same(trace({ src: 'fd00:244:3::2', dst: 'fd00:96::12', port: 80, proto: 'tcp' }), ['reject'], 'no endpoints');
});
