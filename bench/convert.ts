// Decoding speed of watch events: JSON.parse of one event line plus the
// conversion to a slim object, for EndpointSlices of several sizes and for a
// Service. The reflector must keep up with >= 5,000 EndpointSlice events/s.
// Run: npx node bench/convert.ts

import { convertObject } from '../src/k8s/convert/index.ts';

function sliceJSON(endpoints: number): string {
  const eps = [];
  for (let i = 0; i < endpoints; i++) {
    eps.push({
      addresses: [`10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: `node-${i % 50}`,
      zone: `zone-${i % 3}`,
      targetRef: { kind: 'Pod', namespace: 'shop', name: `web-${i}`, uid: '9f1c2d3e-aaaa-bbbb-cccc-000000000000' },
    });
  }
  return JSON.stringify({
    type: 'MODIFIED',
    object: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'web-abcde', namespace: 'shop', uid: '1b2c3d4e-0000-1111-2222-333344445555', resourceVersion: '123456',
        generateName: 'web-', generation: 4, creationTimestamp: '2024-05-01T10:00:00Z',
        labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
        annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2024-05-01T10:00:00Z' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'x', controller: true, blockOwnerDeletion: true }],
      },
      addressType: 'IPv4',
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }, { name: 'metrics', protocol: 'TCP', port: 9090 }],
      endpoints: eps,
    },
  });
}

const serviceJSON = JSON.stringify({
  type: 'ADDED',
  object: {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'web', namespace: 'shop', uid: 'u', resourceVersion: '5', labels: { app: 'web' } },
    spec: {
      type: 'NodePort', clusterIP: '10.96.3.4', clusterIPs: ['10.96.3.4'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }],
      selector: { app: 'web' }, sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster',
    },
    status: { loadBalancer: {} },
  },
});

function measure(label: string, line: string, kind: 'EndpointSlice' | 'Service'): string {
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const ev = JSON.parse(line) as { object: unknown };
      convertObject(kind, ev.object);
    }
  };
  run(2000); // warm up the JIT
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 1e9) {
    run(200);
    n += 200;
    elapsed = Number(process.hrtime.bigint() - start);
  }
  const perSec = n / (elapsed / 1e9);
  return `| ${label} | ${line.length} | ${Math.round(perSec).toLocaleString('en-US')} | ${(1e6 / perSec).toFixed(1)} |`;
}

console.log('| event | bytes | events/s (parse + convert) | µs/event |');
console.log('|---|---:|---:|---:|');
console.log(measure('Service (NodePort, 1 port)', serviceJSON, 'Service'));
for (const n of [1, 10, 100]) console.log(measure(`EndpointSlice, ${n} endpoints`, sliceJSON(n), 'EndpointSlice'));
