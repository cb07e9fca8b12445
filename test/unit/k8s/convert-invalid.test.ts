import t from 'tap';
import { convertObject } from '../../../src/k8s/convert/index.ts';
import { InvalidObjectError } from '../../../src/base/errors.ts';
import type { Kind } from '../../../src/k8s/objects.ts';

const md = { name: 'x', namespace: 'shop' };
const svc = (spec: unknown, extra: object = {}) => ({ metadata: md, spec, ...extra });
const slice = (over: object) => ({ metadata: md, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }], ...over });

// Each row: a malformed object and the field the error must name.
const rows: { name: string; kind: Kind; raw: unknown; field: string; ref?: string }[] = [
  { name: 'not an object', kind: 'Service', raw: null, field: '<root>' },
  { name: 'a list instead of an object', kind: 'Pod', raw: [], field: '<root>' },
  { name: 'no metadata', kind: 'Service', raw: { spec: {} }, field: 'metadata' },
  { name: 'metadata is a string', kind: 'Service', raw: { metadata: 'x' }, field: 'metadata' },
  { name: 'missing name', kind: 'Service', raw: { metadata: { namespace: 'shop' } }, field: 'metadata.name', ref: 'shop/' },
  { name: 'name is a number', kind: 'Node', raw: { metadata: { name: 7 } }, field: 'metadata.name' },
  { name: 'resourceVersion is a number', kind: 'Pod', raw: { metadata: { ...md, resourceVersion: 5 } }, field: 'metadata.resourceVersion', ref: 'shop/x' },
  { name: 'spec is a list', kind: 'Service', raw: svc([]), field: 'spec' },
  { name: 'unknown service type', kind: 'Service', raw: svc({ type: 'Magic' }), field: 'spec.type' },
  { name: 'bad clusterIP', kind: 'Service', raw: svc({ clusterIP: '10.0.0.300' }), field: 'spec.clusterIP' },
  { name: 'bad second clusterIP', kind: 'Service', raw: svc({ clusterIPs: ['10.0.0.1', 'nope'] }), field: 'spec.clusterIPs[1]' },
  { name: 'clusterIPs not a list', kind: 'Service', raw: svc({ clusterIPs: '10.0.0.1' }), field: 'spec.clusterIPs' },
  { name: 'bad ip family', kind: 'Service', raw: svc({ ipFamilies: ['IPv5'] }), field: 'spec.ipFamilies[0]' },
  { name: 'port 0', kind: 'Service', raw: svc({ ports: [{ port: 0 }] }), field: 'spec.ports[0].port' },
  { name: 'port 65536', kind: 'Service', raw: svc({ ports: [{ port: 80 }, { port: 65536 }] }), field: 'spec.ports[1].port' },
  { name: 'port missing', kind: 'Service', raw: svc({ ports: [{ name: 'a' }] }), field: 'spec.ports[0].port' },
  { name: 'port as a string', kind: 'Service', raw: svc({ ports: [{ port: '80' }] }), field: 'spec.ports[0].port' },
  { name: 'port fraction', kind: 'Service', raw: svc({ ports: [{ port: 80.5 }] }), field: 'spec.ports[0].port' },
  { name: 'port entry null', kind: 'Service', raw: svc({ ports: [null] }), field: 'spec.ports[0]' },
  { name: 'unknown protocol', kind: 'Service', raw: svc({ ports: [{ port: 80, protocol: 'ICMP' }] }), field: 'spec.ports[0].protocol' },
  { name: 'lower-case protocol', kind: 'Service', raw: svc({ ports: [{ port: 80, protocol: 'tcp' }] }), field: 'spec.ports[0].protocol' },
  { name: 'nodePort out of range', kind: 'Service', raw: svc({ ports: [{ port: 80, nodePort: 70000 }] }), field: 'spec.ports[0].nodePort' },
  { name: 'negative nodePort', kind: 'Service', raw: svc({ ports: [{ port: 80, nodePort: -1 }] }), field: 'spec.ports[0].nodePort' },
  { name: 'targetPort out of range', kind: 'Service', raw: svc({ ports: [{ port: 80, targetPort: 99999 }] }), field: 'spec.ports[0].targetPort' },
  { name: 'targetPort an object', kind: 'Service', raw: svc({ ports: [{ port: 80, targetPort: {} }] }), field: 'spec.ports[0].targetPort' },
  { name: 'bad externalIP', kind: 'Service', raw: svc({ externalIPs: ['1.2.3'] }), field: 'spec.externalIPs[0]' },
  { name: 'bad source range', kind: 'Service', raw: svc({ loadBalancerSourceRanges: ['10.0.0.0/33'] }), field: 'spec.loadBalancerSourceRanges[0]' },
  { name: 'source range without prefix', kind: 'Service', raw: svc({ loadBalancerSourceRanges: ['10.0.0.0'] }), field: 'spec.loadBalancerSourceRanges[0]' },
  { name: 'bad ingress IP', kind: 'Service', raw: svc({}, { status: { loadBalancer: { ingress: [{ ip: 'lb' }] } } }), field: 'status.loadBalancer.ingress[0].ip' },
  { name: 'ExternalName without a name', kind: 'Service', raw: svc({ type: 'ExternalName' }), field: 'spec.externalName' },
  { name: 'affinity timeout 0', kind: 'Service', raw: svc({ sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }), field: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds' },
  { name: 'unknown affinity', kind: 'Service', raw: svc({ sessionAffinity: 'Cookie' }), field: 'spec.sessionAffinity' },
  { name: 'unknown traffic policy', kind: 'Service', raw: svc({ externalTrafficPolicy: 'Nearby' }), field: 'spec.externalTrafficPolicy' },
  { name: 'publishNotReadyAddresses a string', kind: 'Service', raw: svc({ publishNotReadyAddresses: 'yes' }), field: 'spec.publishNotReadyAddresses' },
  { name: 'label value a number', kind: 'Service', raw: { metadata: { ...md, labels: { 'service.kubernetes.io/service-proxy-name': 1 } } }, field: 'metadata.labels.service.kubernetes.io/service-proxy-name' },
  { name: 'slice without addressType', kind: 'EndpointSlice', raw: slice({ addressType: undefined }), field: 'addressType' },
  { name: 'slice with unknown addressType', kind: 'EndpointSlice', raw: slice({ addressType: 'IPv7' }), field: 'addressType' },
  { name: 'IPv4 slice with an IPv6 address', kind: 'EndpointSlice', raw: slice({ endpoints: [{ addresses: ['fd00::1'] }] }), field: 'endpoints[0].addresses[0]' },
  { name: 'IPv6 slice with an IPv4 address', kind: 'EndpointSlice', raw: slice({ addressType: 'IPv6', endpoints: [{ addresses: ['fd00::1', '10.0.0.1'] }] }), field: 'endpoints[0].addresses[1]' },
  { name: 'endpoint with a bad IP', kind: 'EndpointSlice', raw: slice({ endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['ten'] }] }), field: 'endpoints[1].addresses[0]' },
  { name: 'endpoint without addresses', kind: 'EndpointSlice', raw: slice({ endpoints: [{ addresses: [] }] }), field: 'endpoints[0].addresses' },
  { name: 'endpoint null', kind: 'EndpointSlice', raw: slice({ endpoints: [null] }), field: 'endpoints[0]' },
  { name: 'endpoints an object', kind: 'EndpointSlice', raw: slice({ endpoints: {} }), field: 'endpoints' },
  { name: 'ready a string', kind: 'EndpointSlice', raw: slice({ endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: 'true' } }] }), field: 'endpoints[0].conditions.ready' },
  { name: 'slice port out of range', kind: 'EndpointSlice', raw: slice({ ports: [{ port: 0 }] }), field: 'ports[0].port' },
  { name: 'slice port protocol', kind: 'EndpointSlice', raw: slice({ ports: [{ port: 80, protocol: 'QUIC' }] }), field: 'ports[0].protocol' },
  { name: 'zone hint without a name', kind: 'EndpointSlice', raw: slice({ endpoints: [{ addresses: ['10.0.0.1'], hints: { forZones: [{}] } }] }), field: 'endpoints[0].hints.forZones[0].name' },
  { name: 'node with a bad podCIDR', kind: 'Node', raw: { metadata: { name: 'n' }, spec: { podCIDR: '10.244.0.0' } }, field: 'spec.podCIDR' },
  { name: 'node with a bad podCIDRs entry', kind: 'Node', raw: { metadata: { name: 'n' }, spec: { podCIDRs: ['10.0.0.0/8', 'fd00::/129'] } }, field: 'spec.podCIDRs[1]' },
  { name: 'node with a bad InternalIP', kind: 'Node', raw: { metadata: { name: 'n' }, status: { addresses: [{ type: 'InternalIP', address: 'n1.local' }] } }, field: 'status.addresses[0].address' },
  { name: 'node address null', kind: 'Node', raw: { metadata: { name: 'n' }, status: { addresses: [null] } }, field: 'status.addresses[0]' },
  { name: 'pod with a bad podIP', kind: 'Pod', raw: { metadata: md, status: { podIP: '10.0.0' } }, field: 'status.podIP' },
  { name: 'pod with a bad podIPs entry', kind: 'Pod', raw: { metadata: md, status: { podIPs: [{ ip: '10.0.0.1' }, { ip: 5 }] } }, field: 'status.podIPs[1].ip' },
  { name: 'pod hostNetwork a string', kind: 'Pod', raw: { metadata: md, spec: { hostNetwork: 'true' } }, field: 'spec.hostNetwork' },
  { name: 'block without spec', kind: 'IPAMBlock', raw: { metadata: { name: 'b' } }, field: 'spec' },
  { name: 'block with a bad CIDR', kind: 'IPAMBlock', raw: { metadata: { name: 'b' }, spec: { cidr: '10.0.0.0/x', node: 'n' } }, field: 'spec.cidr' },
  { name: 'block without a node', kind: 'IPAMBlock', raw: { metadata: { name: 'b' }, spec: { cidr: '10.0.0.0/26' } }, field: 'spec.node' },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    let err: unknown;
    try {
      convertObject(row.kind, row.raw);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof InvalidObjectError, 'throws InvalidObjectError');
    const e = err as InvalidObjectError;
    t.equal(e.code, 'ERR_INVALID_OBJECT');
    t.equal(e.field, row.field);
    t.equal(e.kind, row.kind);
    if (row.ref !== undefined) t.equal(e.ref, row.ref);
    t.match(e.message, row.field);
  });
}

// Every value at every depth of valid objects replaced by every wrong type:
// the converters either accept the result or throw InvalidObjectError, never
// a TypeError or anything else.
const valid: [Kind, unknown][] = [
  ['Service', {
    metadata: { name: 's', namespace: 'n', labels: { a: 'b' }, annotations: { 'service.kubernetes.io/topology-mode': 'Auto' } },
    spec: {
      type: 'LoadBalancer', clusterIPs: ['10.0.0.1'], ipFamilies: ['IPv4'], externalIPs: ['10.0.0.2'],
      ports: [{ name: 'p', port: 80, targetPort: 'http', nodePort: 30000, protocol: 'UDP', appProtocol: 'x' }],
      sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } }, loadBalancerSourceRanges: ['10.0.0.0/8'],
    },
    status: { loadBalancer: { ingress: [{ ip: '10.0.0.3' }] } },
  }],
  ['EndpointSlice', {
    metadata: { name: 'e', namespace: 'n', labels: { 'kubernetes.io/service-name': 's' }, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2024-01-01T00:00:00Z' } },
    addressType: 'IPv4', ports: [{ name: 'p', port: 80, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true, serving: true, terminating: false }, hostname: 'h', nodeName: 'n', zone: 'z', hints: { forZones: [{ name: 'z' }] }, targetRef: { kind: 'Pod', name: 'p', namespace: 'n' } }],
  }],
  ['Node', {
    metadata: { name: 'n', labels: { 'topology.kubernetes.io/zone': 'z' } },
    spec: { podCIDR: '10.0.0.0/24', podCIDRs: ['10.0.0.0/24'] },
    status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'h' }], conditions: [{ type: 'Ready', status: 'True' }] },
  }],
  ['Pod', { metadata: { name: 'p', namespace: 'n' }, spec: { nodeName: 'n', hostNetwork: false, hostname: 'h', subdomain: 's' }, status: { phase: 'Running', podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }] } }],
  ['Namespace', { metadata: { name: 'n' } }],
  ['IPAMBlock', { metadata: { name: 'b' }, spec: { cidr: '10.0.0.0/26', node: 'n', pool: 'p' } }],
];

function* paths(v: unknown, path: (string | number)[] = []): Generator<(string | number)[]> {
  if (v === null || typeof v !== 'object') return;
  for (const k of Object.keys(v)) {
    const p = [...path, Array.isArray(v) ? Number(k) : k];
    yield p;
    yield* paths((v as Record<string, unknown>)[k], p);
  }
}

function replaced(v: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[path[path.length - 1]] = value;
  return copy;
}

t.test('wrong types at any depth give InvalidObjectError or a result, nothing else', async (t) => {
  const wrong = [null, undefined, 0, -1, 1.5, '', 'x', true, [], [null], {}, { a: 1 }];
  let cases = 0;
  let unexpected = 0;
  for (const [kind, raw] of valid) {
    t.doesNotThrow(() => convertObject(kind, raw), `${kind} base object is valid`);
    for (const path of paths(raw)) {
      for (const w of wrong) {
        cases++;
        try {
          convertObject(kind, replaced(raw, path, w));
        } catch (e) {
          if (!(e instanceof InvalidObjectError)) {
            unexpected++;
            t.fail(`${kind} ${path.join('.')} = ${JSON.stringify(w)}: ${String(e)}`);
          }
        }
      }
    }
  }
  t.equal(unexpected, 0, `${cases} mutated objects`);
});
