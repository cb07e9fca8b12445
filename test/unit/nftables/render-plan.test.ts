// Plan → what it adds to netlet's nftables table, as tables of rows: the
// elements of the shared maps and sets, and the chains of the few services
// that need their own.

import t from 'tap';
import { ep, plan } from '../iptables/plans.ts';
import { hairpinElement, keptRender, keptRenderOf, needsOwnChains, renderElements, renderPlan } from '../../../src/nftables/render-plan.ts';
import type { Element, PlanRender, RenderContext } from '../../../src/nftables/render-plan.ts';
import { wordsFor } from '../../../src/nftables/words.ts';
import type { ServicePortPlan } from '../../../src/proxier/plan.ts';

const ctx4: RenderContext = { words: wordsFor(4), masqMark: '0x00004000' };
const ctx6: RenderContext = { words: wordsFor(6), masqMark: '0x00004000' };
const local = (ip: string, port = 8080) => ep(ip, port, { isLocal: true, nodeName: 'node1' });
const two = [local('10.244.1.2'), local('10.244.2.2')];

/** "set key : value" per element, as nft would list them, with the hairpin elements the backend writes for the plan's addresses. */
const elements = (r: PlanRender) => [...r.elements, ...r.hairpinIps.map(hairpinElement)].map((e) => `${e.set} ${e.key}${e.value ? ` : ${e.value}` : ''}`);
const chains = (r: PlanRender) => Object.fromEntries(r.chains.map((c) => [c.name, c.rules]));

interface Row {
  name: string;
  plan: ServicePortPlan;
  ctx?: RenderContext;
  elements: string[];
  /** Elements that must not be there (a regexp over every element). */
  not?: RegExp[];
  chains?: Record<string, string[]>;
}

const rows: Row[] = [
  {
    name: 'ClusterIP with two endpoints: elements only, masqueraded from outside the pod CIDR',
    plan: plan('default', 'web', { clusterEndpoints: two }),
    elements: [
      'masq-outside-10-244-0-0-16 10.96.0.10 . tcp . 80',
      'service-ips 10.96.0.10 . tcp . 80 : goto pick-tcp-2',
      'endpoints-tcp-2 10.96.0.10 . 80 . 0 : 10.244.1.2 . 8080',
      'endpoints-tcp-2 10.96.0.10 . 80 . 1 : 10.244.2.2 . 8080',
      'hairpin 10.244.1.2 . 10.244.1.2',
      'hairpin 10.244.2.2 . 10.244.2.2',
    ],
    chains: {},
  },
  {
    name: 'masqueradeAll',
    plan: plan('default', 'web', { masqueradeAll: true, clusterEndpoints: two }),
    elements: ['masq-all 10.96.0.10 . tcp . 80'],
    not: [/masq-outside/],
  },
  {
    name: 'no endpoints: reject on the ClusterIP, NodePort and external IP',
    plan: plan('default', 'empty', { clusterIP: '10.96.0.12', nodePort: 30082, externalIPs: ['192.0.2.1'] }),
    elements: [
      'no-endpoint-services 10.96.0.12 . tcp . 80 : goto reject-packet',
      'no-endpoint-services 192.0.2.1 . tcp . 80 : goto reject-packet',
      'no-endpoint-nodeports tcp . 30082 : goto reject-packet',
    ],
    not: [/^service-ips/, /^service-nodeports/, /masq/],
  },
  {
    name: 'internalTrafficPolicy Local with endpoints only elsewhere: drop',
    plan: plan('default', 'il', { internalTraffic: 'local', clusterEndpoints: [ep('10.244.9.9', 8080)], localEndpoints: [] }),
    elements: ['no-endpoint-services 10.96.0.10 . tcp . 80 : drop'],
    not: [/^service-ips/],
  },
  {
    name: 'internalTrafficPolicy Local: the ClusterIP picks among local endpoints',
    plan: plan('default', 'il', { internalTraffic: 'local', clusterEndpoints: [local('10.244.1.2'), ep('10.244.9.9', 8080)], localEndpoints: [local('10.244.1.2')] }),
    elements: ['service-ips 10.96.0.10 . tcp . 80 : goto pick-tcp-1', 'endpoints-tcp-1 10.96.0.10 . 80 . 0 : 10.244.1.2 . 8080'],
    not: [/10\.244\.9\.9 \. 8080/],
  },
  {
    name: 'NodePort and external IP, Cluster policy: masqueraded pick chains',
    plan: plan('default', 'np', { nodePort: 30080, externalIPs: ['192.0.2.100'], clusterEndpoints: two }),
    elements: [
      'service-ips 192.0.2.100 . tcp . 80 : goto masq-pick-tcp-2',
      'endpoints-tcp-2 192.0.2.100 . 80 . 1 : 10.244.2.2 . 8080',
      'service-nodeports tcp . 30080 : goto nodeport-masq-pick-tcp-2',
      'nodeport-endpoints-tcp-2 30080 . 0 : 10.244.1.2 . 8080',
    ],
  },
  {
    name: 'LB IP with source ranges: the firewall sets, nested ranges left out, the node admitted',
    plan: plan('default', 'lb', {
      loadBalancerIPs: ['192.0.2.200'],
      loadBalancerSourceRanges: ['10.0.0.0/8', '10.1.0.0/16', '192.168.0.1/24'],
      loadBalancerSourceRangesIncludeNode: true,
      clusterEndpoints: two,
    }),
    elements: [
      'firewall-ips 192.0.2.200 . tcp . 80',
      'firewall-allow 192.0.2.200 . tcp . 80 . 10.0.0.0/8',
      'firewall-allow 192.0.2.200 . tcp . 80 . 192.168.0.0/24',
      'firewall-allow 192.0.2.200 . tcp . 80 . 192.0.2.200/32',
      'service-ips 192.0.2.200 . tcp . 80 : goto masq-pick-tcp-2',
    ],
    not: [/10\.1\.0\.0/],
  },
  {
    name: 'UDP and SCTP get their own pick groups',
    plan: plan('default', 'dns', { protocol: 'udp', port: 53, clusterEndpoints: [local('10.244.1.2', 53)] }),
    elements: ['service-ips 10.96.0.10 . udp . 53 : goto pick-udp-1', 'endpoints-udp-1 10.96.0.10 . 53 . 0 : 10.244.1.2 . 53'],
  },
  {
    name: 'SCTP',
    plan: plan('default', 'sig', { protocol: 'sctp', port: 3868, clusterEndpoints: [local('10.244.1.2', 3868)] }),
    elements: ['service-ips 10.96.0.10 . sctp . 3868 : goto pick-sctp-1'],
  },
  {
    name: 'ClientIP affinity: own chains, one affinity set per endpoint, an even spread without anonymous maps',
    plan: plan('default', 'sticky', { affinityTimeoutSeconds: 600, clusterEndpoints: two }),
    elements: ['service-ips 10.96.0.10 . tcp . 80 : goto svc_default_sticky_http_tcp'],
    not: [/pick/],
    chains: {
      svc_default_sticky_http_tcp: [
        'ip saddr @aff_default_sticky_http_tcp_10-244-1-2-8080_600s goto sep_default_sticky_http_tcp_10-244-1-2-8080',
        'ip saddr @aff_default_sticky_http_tcp_10-244-2-2-8080_600s goto sep_default_sticky_http_tcp_10-244-2-2-8080',
        'numgen random mod 2 == 0 goto sep_default_sticky_http_tcp_10-244-1-2-8080',
        'goto sep_default_sticky_http_tcp_10-244-2-2-8080',
      ],
      'sep_default_sticky_http_tcp_10-244-1-2-8080': ['update @aff_default_sticky_http_tcp_10-244-1-2-8080_600s { ip saddr } meta l4proto tcp dnat ip to 10.244.1.2:8080'],
      'sep_default_sticky_http_tcp_10-244-2-2-8080': ['update @aff_default_sticky_http_tcp_10-244-2-2-8080_600s { ip saddr } meta l4proto tcp dnat ip to 10.244.2.2:8080'],
    },
  },
  {
    name: 'externalTrafficPolicy Local: pods and the node go to the cluster endpoints, outside clients to the local ones',
    plan: plan('default', 'lp', { nodePort: 30084, externalTraffic: 'local', clusterEndpoints: [local('10.244.1.2'), ep('10.244.9.9', 8080)], localEndpoints: [local('10.244.1.2')] }),
    elements: ['service-ips 10.96.0.10 . tcp . 80 : goto svc_default_lp_http_tcp', 'service-nodeports tcp . 30084 : goto ext_default_lp_http_tcp'],
    chains: {
      ext_default_lp_http_tcp: [
        'ip saddr 10.244.0.0/16 goto svc_default_lp_http_tcp',
        'fib saddr type local meta mark set meta mark or 0x00004000',
        'fib saddr type local goto svc_default_lp_http_tcp',
        'goto svl_default_lp_http_tcp',
      ],
      svc_default_lp_http_tcp: ['numgen random mod 2 == 0 meta l4proto tcp dnat ip to 10.244.1.2:8080', 'meta l4proto tcp dnat ip to 10.244.9.9:8080'],
      svl_default_lp_http_tcp: ['meta l4proto tcp dnat ip to 10.244.1.2:8080'],
    },
  },
  {
    name: 'externalTrafficPolicy Local with endpoints only elsewhere: outside clients dropped, pods still served',
    plan: plan('default', 'lp', { nodePort: 30084, externalTraffic: 'local', clusterEndpoints: [ep('10.244.9.9', 8080)], localEndpoints: [] }),
    elements: ['service-nodeports tcp . 30084 : goto ext_default_lp_http_tcp', 'no-endpoint-nodeports tcp . 30084 : drop'],
    chains: {
      ext_default_lp_http_tcp: ['ip saddr 10.244.0.0/16 goto svc_default_lp_http_tcp', 'fib saddr type local meta mark set meta mark or 0x00004000', 'fib saddr type local goto svc_default_lp_http_tcp'],
      svc_default_lp_http_tcp: ['meta l4proto tcp dnat ip to 10.244.9.9:8080'],
    },
  },
  {
    name: 'IPv6',
    ctx: ctx6,
    plan: plan('default', 'v6', { family: 6, clusterIP: 'fd00:96::10', clusterCIDRs: ['fd00:244::/32'], affinityTimeoutSeconds: 60, clusterEndpoints: [local('fd00:244:1::2')] }),
    elements: ['masq-outside-fd00-244---32 fd00:96::10 . tcp . 80', 'service-ips fd00:96::10 . tcp . 80 : goto svc_default_v6_http_tcp', 'hairpin fd00:244:1::2 . fd00:244:1::2'],
    chains: {
      'sep_default_v6_http_tcp_fd00-244-1--2-8080': ['update @aff_default_v6_http_tcp_fd00-244-1--2-8080_60s { ip6 saddr } meta l4proto tcp dnat ip6 to [fd00:244:1::2]:8080'],
    },
  },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const r = renderPlan(row.plan, row.ctx ?? ctx4);
    const got = elements(r);
    t.same(keptRenderOf(row.plan, row.ctx ?? ctx4), keptRender(r), 'rendered without elements, it keeps the same (and counts them)');
    const streamed: Element[] = [];
    renderElements(row.plan, row.ctx ?? ctx4, (set, key, value) => streamed.push({ set, key, value }));
    t.same(streamed, r.elements, 'its elements handed one by one are the same, in the same order');
    for (const want of row.elements) t.ok(got.includes(want), want);
    for (const re of row.not ?? []) t.notOk(got.some((e) => re.test(e)), `none matches ${re}`);
    if (row.chains) {
      const have = chains(r);
      if (Object.keys(row.chains).length === 0) t.same(have, {}, 'no chain of its own');
      for (const [name, rules] of Object.entries(row.chains)) t.same(have[name], rules, name);
    }
  });
}

t.test('own chains only for affinity and a Local external policy', async (t) => {
  t.equal(needsOwnChains(plan('a', 'b', { clusterEndpoints: two })), false);
  t.equal(needsOwnChains(plan('a', 'b', { internalTraffic: 'local', clusterEndpoints: two, localEndpoints: two })), false);
  t.equal(needsOwnChains(plan('a', 'b', { affinityTimeoutSeconds: 10, clusterEndpoints: two })), true);
  t.equal(needsOwnChains(plan('a', 'b', { nodePort: 30000, externalTraffic: 'local', clusterEndpoints: two, localEndpoints: two })), true);
});

t.test('an endpoint shared by two lists has one affinity set and one chain', async (t) => {
  const r = renderPlan(plan('default', 's', { affinityTimeoutSeconds: 5, nodePort: 30000, externalTraffic: 'local', clusterEndpoints: two, localEndpoints: [two[0]] }), ctx4);
  t.equal(r.sets.length, 2, 'one set per endpoint');
  t.same(r.sets[0], { name: 'aff_default_s_http_tcp_10-244-1-2-8080_5s', timeoutSeconds: 5 });
  t.equal(r.chains.filter((c) => c.name.startsWith('sep_')).length, 2);
});

t.test('a new affinity timeout makes new affinity sets (a set keeps the timeout it was made with)', async (t) => {
  const names = (timeout: number) => renderPlan(plan('default', 's', { affinityTimeoutSeconds: timeout, clusterEndpoints: two }), ctx4).sets.map((s) => s.name);
  t.notSame(names(10), names(20));
});

t.test('hairpin addresses: each endpoint address once, with few endpoints or many', async (t) => {
  const few = [ep('10.244.1.2', 8080), ep('10.244.1.2', 9090), ep('10.244.2.2', 8080)];
  t.same(renderPlan(plan('default', 's', { clusterEndpoints: few }), ctx4).hairpinIps, ['10.244.1.2', '10.244.2.2']);
  const many = Array.from({ length: 40 }, (_, i) => ep(`10.244.3.${i % 20}`, 8080 + (i >> 4)));
  t.same(renderPlan(plan('default', 's', { clusterEndpoints: many }), ctx4).hairpinIps, Array.from({ length: 20 }, (_, i) => `10.244.3.${i}`));
});
