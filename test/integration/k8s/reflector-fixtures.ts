// Raw API objects and fast reflector settings for the k8s integration tests
// and bench/watch.ts. Objects are shaped as kube-apiserver serves them.

import { Backoff } from '../../../src/k8s/backoff.ts';
import { ApiClient } from '../../../src/k8s/client.ts';
import { Reflector } from '../../../src/k8s/reflector.ts';
import type { ReflectorOptions } from '../../../src/k8s/reflector.ts';
import { resourceSpec } from '../../../src/k8s/resources.ts';
import type { Kind } from '../../../src/k8s/objects.ts';
import type { ObjectStore } from '../../../src/k8s/store.ts';

const ip = (base: number, i: number): string => `${base}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

export function rawService(ns: string, i: number): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: ns, name: `svc-${i}`, labels: { app: `app-${i % 50}` } },
    spec: {
      type: 'ClusterIP',
      selector: { app: `app-${i}` },
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
    },
  };
}

export function rawSlice(ns: string, i: number, generation = 0): object {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name: `svc-${i}-abcde`, labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: [0, 1, 2].map((e) => ({
      addresses: [ip(10, i * 3 + e + generation)],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: `node-${(i + e) % 100}`,
      zone: 'zone-a',
      targetRef: { kind: 'Pod', namespace: ns, name: `pod-${i}-${e}` },
    })),
  };
}

export function rawNode(i: number): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': 'zone-a' } },
    spec: { podCIDR: `10.${100 + (i >> 8)}.${i & 255}.0/24`, podCIDRs: [`10.${100 + (i >> 8)}.${i & 255}.0/24`] },
    status: {
      addresses: [
        { type: 'InternalIP', address: ip(172, i) },
        { type: 'Hostname', address: `node-${i}` },
      ],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

/** Backoff and timeouts short enough for tests; retries are still exponential. */
export function fastReflector(
  client: ApiClient,
  store: ObjectStore,
  kind: Kind,
  over: Partial<ReflectorOptions> = {},
): Reflector {
  return new Reflector({
    client,
    store,
    resource: resourceSpec(kind),
    backoff: new Backoff({ initialMs: 50, maxMs: 400 }),
    stallTimeoutMs: 5000,
    watchTimeoutSeconds: () => 300,
    ...over,
  });
}
