// Decoding speed of watch events: JSON.parse of one event line plus the
// conversion to a slim object, for EndpointSlices of several sizes and for a
// Service. The reflector must keep up with >= 5,000 EndpointSlice events/s.
// A second table prices the conversion alone per endpoint, with every check
// the API server makes (src/k8s/convert), beside its floor: a copy of the
// same fields into the same slim objects with no check at all.
// Run: npx node bench/convert.ts

import { convertObject } from '../src/k8s/convert/index.ts';
import type { Endpoint, EndpointSlice } from '../src/k8s/objects.ts';

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

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw JSON, trusted on purpose: this is the floor
type Raw = Record<string, any>;

/** The floor: the slim EndpointSlice built from the same fields, trusting every value. */
function copyUnchecked(raw: Raw): EndpointSlice {
  const eps: Raw[] = raw.endpoints;
  const endpoints: Endpoint[] = new Array(eps.length);
  for (let i = 0; i < eps.length; i++) {
    const e = eps[i];
    const ready = e.conditions?.ready ?? true;
    const out: Endpoint = {
      addresses: e.addresses.slice(),
      ready,
      serving: e.conditions?.serving ?? ready,
      terminating: e.conditions?.terminating ?? false,
      hostname: e.hostname ?? '',
      nodeName: e.nodeName ?? '',
      zone: e.zone ?? '',
      zoneHints: [],
    };
    if (e.targetRef?.kind === 'Pod') out.targetPod = { namespace: e.targetRef.namespace || raw.metadata.namespace, name: e.targetRef.name };
    endpoints[i] = out;
  }
  const m = raw.metadata;
  return {
    kind: 'EndpointSlice',
    meta: { namespace: m.namespace, name: m.name, uid: m.uid, resourceVersion: m.resourceVersion },
    serviceName: m.labels['kubernetes.io/service-name'],
    addressType: raw.addressType,
    ports: raw.ports.map((p: Raw) => ({ name: p.name, protocol: p.protocol, port: p.port })),
    endpoints,
    triggerTimeMs: Date.parse(m.annotations['endpoints.kubernetes.io/last-change-trigger-time']),
  };
}

/** ns per endpoint of `convert` over `raw` (already parsed), best of 5 runs of ~0.4 s. */
function perEndpoint(raw: Raw, convert: (raw: Raw) => unknown): number {
  const n = raw.endpoints.length;
  for (let i = 0; i < 5000; i++) convert(raw);
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    let calls = 0;
    const start = performance.now();
    while (performance.now() - start < 400) {
      for (let i = 0; i < 200; i++) convert(raw);
      calls += 200;
    }
    best = Math.min(best, ((performance.now() - start) * 1e6) / (calls * n));
  }
  return best;
}

console.log('');
console.log('| EndpointSlice conversion alone (parsed once) | validated, ns/endpoint | copy without checks (floor), ns/endpoint | validated / floor |');
console.log('|---|---:|---:|---:|');
for (const n of [10, 100]) {
  const raw = (JSON.parse(sliceJSON(n)) as { object: Raw }).object;
  const validated = perEndpoint(raw, (r) => convertObject('EndpointSlice', r));
  const floor = perEndpoint(raw, copyUnchecked);
  console.log(`| ${n} endpoints | ${validated.toFixed(0)} | ${floor.toFixed(0)} | ${(validated / floor).toFixed(2)} |`);
}
