import t from 'tap';
import { convertObject } from '../../../src/k8s/convert/index.ts';
import type { Service } from '../../../src/k8s/objects.ts';

const md = { name: 'web', namespace: 'shop', uid: 'u1', resourceVersion: '7' };

/** The slim Service the API server's defaults give for `over`. */
function slim(over: Partial<Service>): Service {
  return {
    kind: 'Service',
    meta: { namespace: 'shop', name: 'web', uid: 'u1', resourceVersion: '7' },
    type: 'ClusterIP',
    clusterIPs: [],
    headless: false,
    ipFamilies: [],
    ports: [],
    externalIPs: [],
    loadBalancerIngressIPs: [],
    loadBalancerSourceRanges: [],
    externalName: '',
    sessionAffinity: 'None',
    sessionAffinityTimeoutSeconds: 10800,
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
    healthCheckNodePort: 0,
    publishNotReadyAddresses: false,
    trafficDistribution: '',
    topologyMode: '',
    serviceProxyName: '',
    ...over,
  };
}

const rows: { name: string; raw: unknown; want: Service }[] = [
  {
    name: 'ClusterIP with defaults: TCP, targetPort = port',
    raw: { metadata: md, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80 }] } },
    want: slim({ clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ports: [{ name: '', protocol: 'TCP', port: 80, targetPort: 80, nodePort: 0 }] }),
  },
  {
    name: 'dual-stack clusterIPs win over clusterIP, families from spec',
    raw: {
      metadata: md,
      spec: {
        clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'fd00::a'], ipFamilies: ['IPv4', 'IPv6'],
        ports: [{ name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353 }, { name: 'h', port: 8080, targetPort: 'http', appProtocol: 'http' }],
      },
    },
    want: slim({
      clusterIPs: ['10.96.0.10', 'fd00::a'], ipFamilies: ['IPv4', 'IPv6'],
      ports: [
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353, nodePort: 0 },
        { name: 'h', protocol: 'TCP', port: 8080, targetPort: 'http', nodePort: 0, appProtocol: 'http' },
      ],
    }),
  },
  {
    name: 'families derived from the IPs when ipFamilies is absent',
    raw: { metadata: md, spec: { clusterIPs: ['fd00::1'] } },
    want: slim({ clusterIPs: ['fd00::1'], ipFamilies: ['IPv6'] }),
  },
  {
    name: 'headless: clusterIP None gives no IPs',
    raw: { metadata: md, spec: { clusterIP: 'None', clusterIPs: ['None'], publishNotReadyAddresses: true } },
    want: slim({ headless: true, publishNotReadyAddresses: true }),
  },
  {
    name: 'headless with only the old clusterIP field',
    raw: { metadata: md, spec: { clusterIP: 'None' } },
    want: slim({ headless: true }),
  },
  {
    name: 'ExternalName: no cluster IPs, trailing dot dropped',
    raw: { metadata: md, spec: { type: 'ExternalName', externalName: 'db.example.com.', clusterIP: '' } },
    want: slim({ type: 'ExternalName', externalName: 'db.example.com' }),
  },
  {
    name: 'LoadBalancer with ingress IPs (hostname-only entries skipped), ranges trimmed, Local policy',
    raw: {
      metadata: md,
      spec: {
        type: 'LoadBalancer', clusterIP: '10.96.1.1', externalIPs: ['192.0.2.7'],
        loadBalancerSourceRanges: [' 203.0.113.0/24 ', '2001:db8::/32'],
        externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local', healthCheckNodePort: 30999,
        ports: [{ port: 443, targetPort: '8443', nodePort: 31443 }],
      },
      status: { loadBalancer: { ingress: [{ ip: '198.51.100.4' }, { hostname: 'lb.example.com' }] } },
    },
    want: slim({
      type: 'LoadBalancer', clusterIPs: ['10.96.1.1'], ipFamilies: ['IPv4'], externalIPs: ['192.0.2.7'],
      loadBalancerIngressIPs: ['198.51.100.4'], loadBalancerSourceRanges: ['203.0.113.0/24', '2001:db8::/32'],
      externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local', healthCheckNodePort: 30999,
      ports: [{ name: '', protocol: 'TCP', port: 443, targetPort: 8443, nodePort: 31443 }],
    }),
  },
  {
    name: 'ClientIP affinity with its timeout, traffic distribution',
    raw: {
      metadata: md,
      spec: { clusterIP: '10.96.0.2', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, trafficDistribution: 'PreferClose' },
    },
    want: slim({ clusterIPs: ['10.96.0.2'], ipFamilies: ['IPv4'], sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 60, trafficDistribution: 'PreferClose' }),
  },
  {
    name: 'ClientIP affinity without config defaults to 10800 s',
    raw: { metadata: md, spec: { sessionAffinity: 'ClientIP' } },
    want: slim({ sessionAffinity: 'ClientIP' }),
  },
  {
    name: 'topology-mode annotation and service-proxy-name label',
    raw: {
      metadata: { ...md, annotations: { 'service.kubernetes.io/topology-mode': 'Auto' }, labels: { 'service.kubernetes.io/service-proxy-name': 'other' } },
      spec: {},
    },
    want: slim({ topologyMode: 'Auto', serviceProxyName: 'other' }),
  },
  {
    name: 'older topology-aware-hints annotation',
    raw: { metadata: { ...md, annotations: { 'service.kubernetes.io/topology-aware-hints': 'auto' } } },
    want: slim({ topologyMode: 'auto' }),
  },
  {
    name: 'no namespace in a manifest means default; null fields mean defaults',
    raw: { metadata: { name: 'web', labels: null, annotations: null }, spec: { ports: null, type: null, clusterIP: null } },
    want: slim({ meta: { namespace: 'default', name: 'web', uid: '', resourceVersion: '' } }),
  },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    t.strictSame(convertObject('Service', row.raw), row.want);
  });
}

t.test('the result shares no arrays with the input and keeps no extra fields', async (t) => {
  const raw = { metadata: { ...md, managedFields: [{ big: true }] }, spec: { clusterIPs: ['10.0.0.1'], externalIPs: ['10.0.0.2'] } };
  const svc = convertObject('Service', raw);
  t.not(svc.clusterIPs, raw.spec.clusterIPs);
  t.not(svc.externalIPs, raw.spec.externalIPs);
  t.notOk('managedFields' in svc.meta);
});
