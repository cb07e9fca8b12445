import t from 'tap';
import { convertObject, kindOf } from '../../../src/k8s/convert/index.ts';
import type { AnyObject, Kind } from '../../../src/k8s/objects.ts';

const nsMeta = (name: string) => ({ name, namespace: 'shop', uid: `u-${name}`, resourceVersion: '3' });
const clusterMeta = (name: string) => ({ name, uid: `u-${name}`, resourceVersion: '3' });
const slimNs = (name: string) => ({ namespace: 'shop', name, uid: `u-${name}`, resourceVersion: '3' });
const slimCluster = (name: string) => ({ namespace: '', name, uid: `u-${name}`, resourceVersion: '3' });

const ep = {
  addresses: ['10.1.0.5'], ready: true, serving: true, terminating: false,
  hostname: '', nodeName: '', zone: '', zoneHints: [] as string[],
};

const rows: { name: string; kind: Kind; raw: unknown; want: AnyObject }[] = [
  {
    name: 'EndpointSlice: unset conditions are ready, serving, not terminating',
    kind: 'EndpointSlice',
    raw: {
      metadata: { ...nsMeta('web-x1'), labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [{ addresses: ['10.1.0.5'] }],
    },
    want: {
      kind: 'EndpointSlice', meta: slimNs('web-x1'), serviceName: 'web', addressType: 'IPv4',
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }], endpoints: [ep], triggerTimeMs: 0,
    },
  },
  {
    name: 'EndpointSlice: explicit conditions, topology, hints, targetRef, trigger time',
    kind: 'EndpointSlice',
    raw: {
      metadata: {
        ...nsMeta('web-x2'),
        labels: { 'kubernetes.io/service-name': 'web' },
        annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2024-05-01T10:00:00Z' },
      },
      addressType: 'IPv6',
      ports: [{ name: 'dns', protocol: 'UDP', port: 53, appProtocol: 'dns' }, { name: 'all-ports' }],
      endpoints: [
        {
          addresses: ['fd00::5'], conditions: { ready: false, serving: true, terminating: true },
          hostname: 'web-0', nodeName: 'n1', zone: 'z1', hints: { forZones: [{ name: 'z1' }, { name: 'z2' }] },
          targetRef: { kind: 'Pod', name: 'web-0', namespace: 'shop', uid: 'p' },
        },
        { addresses: ['fd00::6'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'web-1' } },
        { addresses: ['fd00::7'], targetRef: { kind: 'Node', name: 'n1' } },
      ],
    },
    want: {
      kind: 'EndpointSlice', meta: slimNs('web-x2'), serviceName: 'web', addressType: 'IPv6',
      ports: [{ name: 'dns', protocol: 'UDP', port: 53, appProtocol: 'dns' }],
      endpoints: [
        {
          addresses: ['fd00::5'], ready: false, serving: true, terminating: true, hostname: 'web-0', nodeName: 'n1',
          zone: 'z1', zoneHints: ['z1', 'z2'], targetPod: { namespace: 'shop', name: 'web-0' },
        },
        { ...ep, addresses: ['fd00::6'], ready: false, serving: false, targetPod: { namespace: 'shop', name: 'web-1' } },
        { ...ep, addresses: ['fd00::7'] },
      ],
      triggerTimeMs: Date.UTC(2024, 4, 1, 10),
    },
  },
  {
    name: 'EndpointSlice: FQDN addresses, no service label, bad trigger time reads as absent',
    kind: 'EndpointSlice',
    raw: {
      metadata: { ...nsMeta('ext'), annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': 'yesterday' } },
      addressType: 'FQDN',
      endpoints: [{ addresses: ['db.example.com'] }],
    },
    want: {
      kind: 'EndpointSlice', meta: slimNs('ext'), serviceName: '', addressType: 'FQDN', ports: [],
      endpoints: [{ ...ep, addresses: ['db.example.com'] }], triggerTimeMs: 0,
    },
  },
  {
    name: 'Node: addresses by type, pod CIDRs, zone, Ready, labels',
    kind: 'Node',
    raw: {
      metadata: { ...clusterMeta('n1'), labels: { 'topology.kubernetes.io/zone': 'z1', role: 'edge' } },
      spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24', 'fd00:1::/64'] },
      status: {
        addresses: [
          { type: 'InternalIP', address: '192.168.1.10' }, { type: 'InternalIP', address: 'fd00::10' },
          { type: 'ExternalIP', address: '203.0.113.10' }, { type: 'Hostname', address: 'node-one' },
          { type: 'InternalDNS', address: 'n1.internal' },
        ],
        conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
      },
    },
    want: {
      kind: 'Node', meta: slimCluster('n1'), podCIDRs: ['10.244.1.0/24', 'fd00:1::/64'],
      internalIPs: ['192.168.1.10', 'fd00::10'], externalIPs: ['203.0.113.10'], hostname: 'node-one', zone: 'z1',
      ready: true, labels: { 'topology.kubernetes.io/zone': 'z1', role: 'edge' },
    },
  },
  {
    name: 'Node: single podCIDR, no status means not ready, hostname from the name',
    kind: 'Node',
    raw: { metadata: { ...clusterMeta('n2'), namespace: 'ignored' }, spec: { podCIDR: '10.244.2.0/24' } },
    want: {
      kind: 'Node', meta: slimCluster('n2'), podCIDRs: ['10.244.2.0/24'], internalIPs: [], externalIPs: [],
      hostname: 'n2', zone: '', ready: false, labels: {},
    },
  },
  {
    name: 'Node: Ready False, beta zone label, hostname label',
    kind: 'Node',
    raw: {
      metadata: { ...clusterMeta('n3'), labels: { 'failure-domain.beta.kubernetes.io/zone': 'old', 'kubernetes.io/hostname': 'h3' } },
      status: { conditions: [{ type: 'Ready', status: 'False' }] },
    },
    want: {
      kind: 'Node', meta: slimCluster('n3'), podCIDRs: [], internalIPs: [], externalIPs: [], hostname: 'h3', zone: 'old',
      ready: false, labels: { 'failure-domain.beta.kubernetes.io/zone': 'old', 'kubernetes.io/hostname': 'h3' },
    },
  },
  {
    name: 'Pod: podIPs, hostname, subdomain, hostNetwork',
    kind: 'Pod',
    raw: {
      metadata: nsMeta('web-0'),
      spec: { nodeName: 'n1', hostname: 'web-0', subdomain: 'web', hostNetwork: true },
      status: { phase: 'Running', podIP: '10.1.0.5', podIPs: [{ ip: '10.1.0.5' }, { ip: 'fd00::5' }] },
    },
    want: {
      kind: 'Pod', meta: slimNs('web-0'), nodeName: 'n1', podIPs: ['10.1.0.5', 'fd00::5'], hostNetwork: true,
      phase: 'Running', hostname: 'web-0', subdomain: 'web',
    },
  },
  {
    name: 'Pod: podIP fallback',
    kind: 'Pod',
    raw: { metadata: nsMeta('old'), status: { podIP: '10.1.0.9' } },
    want: { kind: 'Pod', meta: slimNs('old'), nodeName: '', podIPs: ['10.1.0.9'], hostNetwork: false, phase: '', hostname: '', subdomain: '' },
  },
  {
    name: 'Pod: pending, no IP yet',
    kind: 'Pod',
    raw: { metadata: nsMeta('new'), spec: { nodeName: 'n1' }, status: { phase: 'Pending' } },
    want: { kind: 'Pod', meta: slimNs('new'), nodeName: 'n1', podIPs: [], hostNetwork: false, phase: 'Pending', hostname: '', subdomain: '' },
  },
  {
    name: 'Namespace',
    kind: 'Namespace',
    raw: { apiVersion: 'v1', kind: 'Namespace', metadata: clusterMeta('shop'), status: { phase: 'Active' } },
    want: { kind: 'Namespace', meta: slimCluster('shop') },
  },
  {
    name: 'IPAMBlock',
    kind: 'IPAMBlock',
    raw: { metadata: clusterMeta('10-244-0-64-26'), spec: { cidr: '10.244.0.64/26', node: 'n1', pool: 'default' } },
    want: { kind: 'IPAMBlock', meta: slimCluster('10-244-0-64-26'), cidr: '10.244.0.64/26', node: 'n1', pool: 'default' },
  },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    t.strictSame(convertObject(row.kind, row.raw), row.want);
  });
}

t.test('kindOf maps apiVersion/kind to the kinds netlet reads', async (t) => {
  const table: [unknown, unknown, Kind | undefined][] = [
    ['v1', 'Service', 'Service'],
    ['discovery.k8s.io/v1', 'EndpointSlice', 'EndpointSlice'],
    ['v1', 'Node', 'Node'],
    ['v1', 'Pod', 'Pod'],
    ['v1', 'Namespace', 'Namespace'],
    ['netlet.io/v1', 'IPAMBlock', 'IPAMBlock'],
    ['apps/v1', 'Deployment', undefined],
    ['v1', 'Endpoints', undefined],
    ['discovery.k8s.io/v1beta1', 'EndpointSlice', undefined],
    ['v1', 'ConfigMap', undefined],
    [undefined, 'Service', undefined],
    ['v1', 42, undefined],
  ];
  for (const [apiVersion, kind, want] of table) t.equal(kindOf(apiVersion, kind), want, `${String(apiVersion)} ${String(kind)}`);
});
