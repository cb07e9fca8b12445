import t from 'tap';
import { buildPlans } from '../../../src/proxier/plan-builder.ts';
import type { PlanContext } from '../../../src/proxier/plan-builder.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import type { Family, ServicePortPlan } from '../../../src/proxier/plan.ts';
import type { EndpointSlice, Node, Service } from '../../../src/k8s/objects.ts';
import { endpoint, endpointSlice, node, service, servicePort } from '../../helpers/objects.ts';

/** The parts of a plan a row checks; endpoints as "ip:port" (with "*" for local). */
function project(p: ServicePortPlan) {
  const eps = (list: ServicePortPlan['allEndpoints']) => list.map((e) => `${e.ip}:${e.port}${e.isLocal ? '*' : ''}`);
  return {
    key: planKey(p),
    clusterIP: p.clusterIP,
    port: p.port,
    nodePort: p.nodePort,
    externalIPs: p.externalIPs,
    loadBalancerIPs: p.loadBalancerIPs,
    loadBalancerSourceRanges: p.loadBalancerSourceRanges,
    lbNode: p.loadBalancerSourceRangesIncludeNode,
    healthCheckNodePort: p.healthCheckNodePort,
    affinity: p.affinityTimeoutSeconds,
    etpLocal: p.externalTraffic === 'local',
    itpLocal: p.internalTraffic === 'local',
    cluster: eps(p.clusterEndpoints),
    local: eps(p.localEndpoints),
    all: eps(p.allEndpoints),
    anywhere: p.hasAnyEndpoints,
    masqueradeAll: p.masqueradeAll,
    clusterCIDRs: p.clusterCIDRs,
  };
}
type Projection = ReturnType<typeof project>;

interface Row {
  name: string;
  svc: Service;
  slices?: EndpointSlice[];
  node?: Node;
  family?: Family;
  ctx?: Partial<PlanContext>;
  /** One entry per expected plan, only the fields that matter to the row. */
  want: Partial<Projection>[];
}

const NODE = 'node-a';
const here = (ip: string, over = {}) => endpoint(ip, { nodeName: NODE, ...over });
const there = (ip: string, over = {}) => endpoint(ip, { nodeName: 'node-b', ...over });
const slice = (svc: string, eps: ReturnType<typeof endpoint>[], over: Partial<EndpointSlice> = {}) =>
  endpointSlice('ns', svc, `${svc}-${Math.random().toString(36).slice(2, 7)}`, eps, over);
const hinted = (ip: string, zone: string, hints: string[], local = false) =>
  endpoint(ip, { nodeName: local ? NODE : 'node-b', zone, zoneHints: hints });

const rows: Row[] = [
  {
    name: 'ClusterIP, one named port, ready endpoints sorted by IP:port',
    svc: service('ns', 'web'),
    slices: [slice('web', [there('10.1.0.9'), here('10.1.0.10')])],
    want: [{ key: 'ns/web:http/tcp', clusterIP: '10.96.0.10', port: 80, nodePort: 0, cluster: ['10.1.0.10:8080*', '10.1.0.9:8080'], local: [], all: ['10.1.0.10:8080*', '10.1.0.9:8080'], affinity: 0 }],
  },
  {
    name: 'unnamed port: key without ":port"; slice port named "" matches',
    svc: service('ns', 'plain', { ports: [servicePort({ name: '' })] }),
    slices: [slice('plain', [there('10.1.0.1')], { ports: [{ name: '', protocol: 'TCP', port: 9000 }] })],
    want: [{ key: 'ns/plain/tcp', cluster: ['10.1.0.1:9000'] }],
  },
  {
    name: 'endpoints match the service port by name and protocol, not by number',
    svc: service('ns', 'multi', { ports: [servicePort({ name: 'http', port: 80 }), servicePort({ name: 'dns', protocol: 'UDP', port: 53, targetPort: 'dns' })] }),
    slices: [
      slice('multi', [there('10.1.0.1')], {
        ports: [
          { name: 'dns', protocol: 'UDP', port: 5353 },
          { name: 'dns', protocol: 'TCP', port: 5354 },
          { name: 'http', protocol: 'TCP', port: 8080 },
        ],
      }),
    ],
    want: [
      { key: 'ns/multi:http/tcp', cluster: ['10.1.0.1:8080'] },
      { key: 'ns/multi:dns/udp', port: 53, cluster: ['10.1.0.1:5353'] },
    ],
  },
  {
    name: 'a slice without the port name gives no endpoints',
    svc: service('ns', 'noport'),
    slices: [slice('noport', [there('10.1.0.1')], { ports: [{ name: 'metrics', protocol: 'TCP', port: 9090 }] })],
    want: [{ key: 'ns/noport:http/tcp', cluster: [], all: [] }],
  },
  {
    name: 'endpoints in several slices count once; the local copy wins',
    svc: service('ns', 'dup'),
    slices: [slice('dup', [there('10.1.0.1'), there('10.1.0.2')]), slice('dup', [endpoint('10.1.0.1', { nodeName: NODE })])],
    want: [{ cluster: ['10.1.0.1:8080*', '10.1.0.2:8080'] }],
  },
  {
    name: 'FQDN and IPv6 slices are ignored for IPv4',
    svc: service('ns', 'mixed'),
    slices: [
      slice('mixed', [there('10.1.0.1')]),
      slice('mixed', [there('fd00::1')], { addressType: 'IPv6' }),
      slice('mixed', [there('db.example.com')], { addressType: 'FQDN' }),
    ],
    want: [{ cluster: ['10.1.0.1:8080'] }],
  },
  {
    name: 'dual-stack, IPv6 family: the IPv6 ClusterIP and IPv6 slices',
    svc: service('ns', 'ds', { clusterIPs: ['10.96.0.20', 'fd00:96::20'], ipFamilies: ['IPv4', 'IPv6'], externalIPs: ['192.0.2.1', '2001:db8::1'] }),
    slices: [slice('ds', [there('10.1.0.1')]), slice('ds', [there('fd00:1::1')], { addressType: 'IPv6' })],
    family: 6,
    want: [{ key: 'ns/ds:http/tcp', clusterIP: 'fd00:96::20', externalIPs: ['2001:db8::1'], cluster: ['fd00:1::1:8080'] }],
  },
  {
    name: 'IPv6-only service has no IPv4 plan',
    svc: service('ns', 'v6only', { clusterIPs: ['fd00:96::30'], ipFamilies: ['IPv6'] }),
    want: [],
  },
  { name: 'headless service has no plan', svc: service('ns', 'hl', { headless: true, clusterIPs: [] }), want: [] },
  { name: 'ExternalName service has no plan', svc: service('ns', 'ext', { type: 'ExternalName', clusterIPs: [], externalName: 'example.com' }), want: [] },
  { name: 'service-proxy-name services belong to another proxy', svc: service('ns', 'other', { serviceProxyName: 'cilium' }), want: [] },
  {
    name: 'NodePort with externalTrafficPolicy Local: local endpoints, cluster ones kept for in-cluster sources',
    svc: service('ns', 'np', { type: 'NodePort', ports: [servicePort({ nodePort: 30080 })], externalTrafficPolicy: 'Local' }),
    slices: [slice('np', [here('10.1.0.1'), there('10.1.0.2')])],
    want: [{ nodePort: 30080, etpLocal: true, itpLocal: false, cluster: ['10.1.0.1:8080*', '10.1.0.2:8080'], local: ['10.1.0.1:8080*'], healthCheckNodePort: 0 }],
  },
  {
    name: 'NodePort, both policies Local, endpoints only on other nodes: cluster ones for in-cluster sources, none local',
    svc: service('ns', 'nplocal', { type: 'NodePort', ports: [servicePort({ nodePort: 30085 })], externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local' }),
    slices: [slice('nplocal', [there('10.1.0.2')])],
    want: [{ etpLocal: true, itpLocal: true, cluster: ['10.1.0.2:8080'], local: [], anywhere: true }],
  },
  {
    name: 'ClusterIP with externalTrafficPolicy Local is not external: no local policy, no nodePort',
    svc: service('ns', 'cip', { ports: [servicePort({ nodePort: 30081 })], externalTrafficPolicy: 'Local' }),
    slices: [slice('cip', [here('10.1.0.1')])],
    want: [{ nodePort: 0, etpLocal: false, local: [] }],
  },
  {
    name: 'LoadBalancer, Local: ingress IPs per family, source ranges per family, healthCheckNodePort',
    svc: service('ns', 'lb', {
      type: 'LoadBalancer',
      ports: [servicePort({ nodePort: 30090 })],
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
      loadBalancerIngressIPs: ['203.0.113.7', '2001:db8::7'],
      loadBalancerSourceRanges: ['198.51.100.0/24', '2001:db8:1::/48'],
    }),
    slices: [slice('lb', [here('10.1.0.1'), there('10.1.0.2')])],
    want: [{ loadBalancerIPs: ['203.0.113.7'], loadBalancerSourceRanges: ['198.51.100.0/24'], healthCheckNodePort: 32000, etpLocal: true, local: ['10.1.0.1:8080*'] }],
  },
  {
    name: "LoadBalancer source ranges holding this node's InternalIP admit the node itself",
    svc: service('ns', 'lbnode', { type: 'LoadBalancer', ports: [servicePort({ nodePort: 30092 })], loadBalancerIngressIPs: ['203.0.113.9'], loadBalancerSourceRanges: ['198.51.100.0/24', '192.168.1.77/24'] }),
    node: node(NODE, { internalIPs: ['192.168.1.10'], externalIPs: ['198.51.100.1'] }),
    want: [{ loadBalancerSourceRanges: ['198.51.100.0/24', '192.168.1.77/24'], lbNode: true }],
  },
  {
    name: "LoadBalancer source ranges without this node's IP (only its ExternalIP, which the InternalIP outranks) do not",
    svc: service('ns', 'lbnotnode', { type: 'LoadBalancer', ports: [servicePort({ nodePort: 30093 })], loadBalancerIngressIPs: ['203.0.113.9'], loadBalancerSourceRanges: ['198.51.100.0/24'] }),
    node: node(NODE, { internalIPs: ['192.168.1.10'], externalIPs: ['198.51.100.1'] }),
    want: [{ lbNode: false }],
  },
  {
    name: 'LoadBalancer source ranges: a node with only an ExternalIP of the family is known by it',
    svc: service('ns', 'lbext', { type: 'LoadBalancer', ports: [servicePort({ nodePort: 30094 })], loadBalancerIngressIPs: ['203.0.113.9'], loadBalancerSourceRanges: ['198.51.100.0/24'] }),
    node: node(NODE, { internalIPs: ['fd00::10'], externalIPs: ['198.51.100.1'] }),
    want: [{ lbNode: true }],
  },
  {
    name: 'LoadBalancer source ranges, IPv6 family: the IPv6 InternalIP is matched',
    svc: service('ns', 'lbv6', {
      type: 'LoadBalancer',
      clusterIPs: ['10.96.0.40', 'fd00:96::40'],
      ipFamilies: ['IPv4', 'IPv6'],
      ports: [servicePort({ nodePort: 30095 })],
      loadBalancerIngressIPs: ['203.0.113.9', '2001:db8::9'],
      loadBalancerSourceRanges: ['192.168.1.0/24', '2001:db8:5::/48'],
    }),
    node: node(NODE, { internalIPs: ['192.168.1.10', '2001:db8:5::10'] }),
    family: 6,
    want: [{ loadBalancerSourceRanges: ['2001:db8:5::/48'], lbNode: true }],
  },
  {
    name: "LoadBalancer source ranges, Node object unknown: the node is 127.0.0.1 (kube-proxy's default)",
    svc: service('ns', 'lbnonode', { type: 'LoadBalancer', ports: [servicePort({ nodePort: 30096 })], loadBalancerIngressIPs: ['203.0.113.9'], loadBalancerSourceRanges: ['127.0.0.0/8'] }),
    want: [{ lbNode: true }],
  },
  {
    name: 'LoadBalancer, Cluster: no healthCheckNodePort',
    svc: service('ns', 'lbc', { type: 'LoadBalancer', ports: [servicePort({ nodePort: 30091 })], healthCheckNodePort: 32001, loadBalancerIngressIPs: ['203.0.113.8'] }),
    want: [{ healthCheckNodePort: 0, etpLocal: false, nodePort: 30091 }],
  },
  {
    name: 'ClientIP affinity carries its timeout',
    svc: service('ns', 'sticky', { sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 600 }),
    want: [{ affinity: 600 }],
  },
  {
    name: 'internalTrafficPolicy Local without external access: local endpoints only',
    svc: service('ns', 'itp', { internalTrafficPolicy: 'Local' }),
    slices: [slice('itp', [here('10.1.0.1'), there('10.1.0.2')])],
    want: [{ itpLocal: true, cluster: [], local: ['10.1.0.1:8080*'], all: ['10.1.0.1:8080*'], anywhere: true }],
  },
  {
    name: 'internalTrafficPolicy Local, endpoints only on other nodes: none here, but the service has endpoints (DROP, not REJECT)',
    svc: service('ns', 'itpelsewhere', { internalTrafficPolicy: 'Local' }),
    slices: [slice('itpelsewhere', [there('10.1.0.2'), there('10.1.0.3', { ready: false, serving: true, terminating: true })])],
    want: [{ itpLocal: true, cluster: [], local: [], all: [], anywhere: true }],
  },
  {
    name: 'internalTrafficPolicy Local, a serving+terminating endpoint elsewhere counts as usable',
    svc: service('ns', 'itpterm', { internalTrafficPolicy: 'Local' }),
    slices: [slice('itpterm', [there('10.1.0.3', { ready: false, serving: true, terminating: true })])],
    want: [{ local: [], anywhere: true }],
  },
  {
    name: 'internalTrafficPolicy Local, no usable endpoint anywhere (REJECT)',
    svc: service('ns', 'itpnone', { internalTrafficPolicy: 'Local' }),
    slices: [slice('itpnone', [there('10.1.0.2', { ready: false, serving: false }), here('10.1.0.4', { ready: false, serving: false, terminating: true })])],
    want: [{ local: [], all: [], anywhere: false }],
  },
  {
    name: 'Cluster policy, nothing ready or serving: no endpoints anywhere',
    svc: service('ns', 'down'),
    slices: [slice('down', [there('10.1.0.2', { ready: false, serving: false })])],
    want: [{ cluster: [], anywhere: false }],
  },
  {
    name: 'no ready endpoint: serving+terminating ones are used (KEP-1669); not-serving ones never',
    svc: service('ns', 'term'),
    slices: [
      slice('term', [
        there('10.1.0.1', { ready: false, serving: true, terminating: true }),
        there('10.1.0.2', { ready: false, serving: false, terminating: true }),
        there('10.1.0.3', { ready: false, serving: false, terminating: false }),
      ]),
    ],
    want: [{ cluster: ['10.1.0.1:8080'], all: ['10.1.0.1:8080'] }],
  },
  {
    name: 'terminating fallback is decided separately for local: remote ready, local only terminating',
    svc: service('ns', 'termlocal', { type: 'NodePort', ports: [servicePort({ nodePort: 30100 })], externalTrafficPolicy: 'Local' }),
    slices: [slice('termlocal', [there('10.1.0.2'), here('10.1.0.1', { ready: false, serving: true, terminating: true })])],
    want: [{ cluster: ['10.1.0.2:8080'], local: ['10.1.0.1:8080*'], all: ['10.1.0.1:8080*', '10.1.0.2:8080'] }],
  },
  {
    name: 'a ready endpoint is preferred over terminating ones',
    svc: service('ns', 'mix'),
    slices: [slice('mix', [there('10.1.0.1', { ready: false, serving: true, terminating: true }), there('10.1.0.2')])],
    want: [{ cluster: ['10.1.0.2:8080'] }],
  },
  {
    name: 'topology Auto: every endpoint hinted, filtered to this node zone',
    svc: service('ns', 'topo', { topologyMode: 'Auto' }),
    slices: [slice('topo', [hinted('10.1.0.1', 'a', ['a']), hinted('10.1.0.2', 'b', ['b']), hinted('10.1.0.3', 'c', ['a'])])],
    node: node(NODE, { zone: 'a' }),
    want: [{ cluster: ['10.1.0.1:8080', '10.1.0.3:8080'] }],
  },
  {
    name: 'trafficDistribution PreferClose uses hints too',
    svc: service('ns', 'close', { trafficDistribution: 'PreferClose' }),
    slices: [slice('close', [hinted('10.1.0.1', 'a', ['a']), hinted('10.1.0.2', 'b', ['b'])])],
    node: node(NODE, { zone: 'b' }),
    want: [{ cluster: ['10.1.0.2:8080'] }],
  },
  {
    name: 'trafficDistribution PreferSameZone is the newer name of PreferClose',
    svc: service('ns', 'samezone', { trafficDistribution: 'PreferSameZone' }),
    slices: [slice('samezone', [hinted('10.1.0.1', 'a', ['a']), hinted('10.1.0.2', 'b', ['b'])])],
    node: node(NODE, { zone: 'a' }),
    want: [{ cluster: ['10.1.0.1:8080'] }],
  },
  {
    name: 'trafficDistribution set to something else wins over the Auto annotation: no filtering',
    svc: service('ns', 'unknowntd', { trafficDistribution: 'PreferSameNode', topologyMode: 'Auto' }),
    slices: [slice('unknowntd', [hinted('10.1.0.1', 'a', ['a']), hinted('10.1.0.2', 'b', ['b'])])],
    node: node(NODE, { zone: 'a' }),
    want: [{ cluster: ['10.1.0.1:8080', '10.1.0.2:8080'] }],
  },
  {
    name: 'topology: unready endpoints without hints do not disable filtering',
    svc: service('ns', 'unreadyhints', { topologyMode: 'Auto' }),
    slices: [slice('unreadyhints', [hinted('10.1.0.1', 'a', ['a']), hinted('10.1.0.2', 'b', ['b']), endpoint('10.1.0.3', { nodeName: 'node-b', ready: false, serving: false })])],
    node: node(NODE, { zone: 'a' }),
    want: [{ cluster: ['10.1.0.1:8080'] }],
  },
  {
    name: 'topology: one ready endpoint without hints disables filtering',
    svc: service('ns', 'partial', { topologyMode: 'Auto' }),
    slices: [slice('partial', [hinted('10.1.0.1', 'a', ['a']), hinted('10.1.0.2', 'b', [])])],
    node: node(NODE, { zone: 'a' }),
    want: [{ cluster: ['10.1.0.1:8080', '10.1.0.2:8080'] }],
  },
  {
    name: 'topology: no endpoint hinted for this zone falls back to all',
    svc: service('ns', 'nozone', { topologyMode: 'Auto' }),
    slices: [slice('nozone', [hinted('10.1.0.1', 'a', ['a']), hinted('10.1.0.2', 'b', ['b'])])],
    node: node(NODE, { zone: 'c' }),
    want: [{ cluster: ['10.1.0.1:8080', '10.1.0.2:8080'] }],
  },
  {
    name: 'topology: a node without a zone uses all endpoints',
    svc: service('ns', 'nolabel', { topologyMode: 'Auto' }),
    slices: [slice('nolabel', [hinted('10.1.0.1', 'a', ['a']), hinted('10.1.0.2', 'b', ['b'])])],
    node: node(NODE, { zone: '' }),
    want: [{ cluster: ['10.1.0.1:8080', '10.1.0.2:8080'] }],
  },
  {
    name: 'topology: hints are ignored without topology-mode Auto or PreferClose',
    svc: service('ns', 'off', { topologyMode: 'Disabled' }),
    slices: [slice('off', [hinted('10.1.0.1', 'a', ['a']), hinted('10.1.0.2', 'b', ['b'])])],
    node: node(NODE, { zone: 'a' }),
    want: [{ cluster: ['10.1.0.1:8080', '10.1.0.2:8080'] }],
  },
  {
    name: 'topology: local endpoints are not zone-filtered (Local policy ignores hints)',
    svc: service('ns', 'topolocal', { topologyMode: 'Auto', type: 'NodePort', ports: [servicePort({ nodePort: 30200 })], externalTrafficPolicy: 'Local' }),
    slices: [slice('topolocal', [hinted('10.1.0.1', 'b', ['b'], true), hinted('10.1.0.2', 'a', ['a'])])],
    node: node(NODE, { zone: 'a' }),
    want: [{ cluster: ['10.1.0.2:8080'], local: ['10.1.0.1:8080*'], all: ['10.1.0.1:8080*', '10.1.0.2:8080'] }],
  },
  {
    name: 'masqueradeAll and the clusterCIDR of the plan family',
    svc: service('ns', 'masq'),
    ctx: { masqueradeAll: true, clusterCIDRs: ['10.244.0.0/16', 'fd00:244::/56'] },
    want: [{ masqueradeAll: true, clusterCIDRs: ['10.244.0.0/16'] }],
  },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const ctx: PlanContext = { nodeName: NODE, node: row.node, masqueradeAll: false, clusterCIDRs: [], ...row.ctx };
    const plans = buildPlans(row.svc, row.slices ?? [], row.family ?? 4, ctx).map(project);
    t.equal(plans.length, row.want.length, `${row.name}: number of plans`);
    row.want.forEach((want, i) => {
      for (const [field, value] of Object.entries(want)) {
        t.same(plans[i]?.[field as keyof Projection], value, `${row.name}: plan ${i} ${field}`);
      }
    });
  });
}

t.test('plan endpoints carry only the plan fields (no zone hints leak into backends)', async (t) => {
  const [p] = buildPlans(service('ns', 'w'), [slice('w', [hinted('10.1.0.1', 'a', ['a'])])], 4, { nodeName: NODE, node: undefined, masqueradeAll: false, clusterCIDRs: [] });
  t.same(Object.keys(p.allEndpoints[0]).sort(), ['ip', 'isLocal', 'nodeName', 'port', 'ready', 'serving', 'terminating', 'zone']);
  t.equal(p.servicePortName, 'ns/w:http');
  t.equal(p.protocol, 'tcp');
  t.equal(p.family, 4);
});
