// Issue 13 (points 2 and 3): every object is validated as the API server
// validates it, whatever its source. Names, namespaces and port names end
// up in iptables rule comments and chain-name hashes: a newline in one wrote
// its own lines into the iptables-restore input, and a space, a quote or a
// zone in an address made every sync of the family fail. Each row is one
// field: the object is refused alone, with an error naming it and the field.

import t from 'tap';
import { convertObject } from '../../../src/k8s/convert/index.ts';
import { InvalidObjectError } from '../../../src/base/errors.ts';
import type { Kind } from '../../../src/k8s/objects.ts';

const INJECTION = 'y\nCOMMIT\n*filter\n-A INPUT -s 6.6.6.7/32 -j ACCEPT\nCOMMIT\n*nat\n#';
const svc = (metadata: object, spec: object = {}) => ({ metadata: { name: 'web', namespace: 'shop', ...metadata }, spec: { clusterIP: '10.96.0.1', ports: [{ port: 80 }], ...spec } });
const slice = (over: object, metadata: object = {}) => ({
  metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' }, ...metadata },
  addressType: 'IPv4',
  endpoints: [{ addresses: ['10.0.0.1'] }],
  ...over,
});
const ep = (e: object) => slice({ endpoints: [{ addresses: ['10.0.0.1'], ...e }] });

const rows: { name: string; kind: Kind; raw: unknown; field: string }[] = [
  { name: 'service name with a newline (rule injection)', kind: 'Service', raw: svc({ name: INJECTION }), field: 'metadata.name' },
  { name: 'namespace with a newline (rule injection)', kind: 'Service', raw: svc({ namespace: INJECTION }), field: 'metadata.namespace' },
  { name: 'port name with a newline (rule injection)', kind: 'Service', raw: svc({}, { ports: [{ name: INJECTION, port: 80 }] }), field: 'spec.ports[0].name' },
  { name: 'service name with a space', kind: 'Service', raw: svc({ name: 'my web' }), field: 'metadata.name' },
  { name: 'service name with a quote', kind: 'Service', raw: svc({ name: 'we"b' }), field: 'metadata.name' },
  { name: 'service name with shell characters', kind: 'Service', raw: svc({ name: 'web;$(reboot)' }), field: 'metadata.name' },
  { name: 'service name of 10,000 characters', kind: 'Service', raw: svc({ name: 'a'.repeat(10_000) }), field: 'metadata.name' },
  { name: 'service name of 64 characters', kind: 'Service', raw: svc({ name: 'a'.repeat(64) }), field: 'metadata.name' },
  { name: 'service name starting with a digit (DNS-1035)', kind: 'Service', raw: svc({ name: '1web' }), field: 'metadata.name' },
  { name: 'service name in upper case', kind: 'Service', raw: svc({ name: 'Web' }), field: 'metadata.name' },
  { name: 'service name with a dot', kind: 'Service', raw: svc({ name: 'web.x' }), field: 'metadata.name' },
  { name: 'namespace with a slash', kind: 'Service', raw: svc({ namespace: 'a/b' }), field: 'metadata.namespace' },
  { name: 'namespace ending with a hyphen', kind: 'Pod', raw: { metadata: { name: 'p', namespace: 'shop-' } }, field: 'metadata.namespace' },
  { name: 'port name with a quote', kind: 'Service', raw: svc({}, { ports: [{ name: 'ht"tp', port: 80 }] }), field: 'spec.ports[0].name' },
  { name: 'port name of 64 characters', kind: 'Service', raw: svc({}, { ports: [{ name: 'p'.repeat(64), port: 80 }] }), field: 'spec.ports[0].name' },
  { name: 'second port without a name', kind: 'Service', raw: svc({}, { ports: [{ name: 'a', port: 80 }, { port: 81 }] }), field: 'spec.ports[1].name' },
  { name: 'two ports of one name', kind: 'Service', raw: svc({}, { ports: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] }), field: 'spec.ports[1].name' },
  { name: 'two ports of one number and protocol', kind: 'Service', raw: svc({}, { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }), field: 'spec.ports[1]' },
  { name: 'named targetPort with a space', kind: 'Service', raw: svc({}, { ports: [{ port: 80, targetPort: 'we b' }] }), field: 'spec.ports[0].targetPort' },
  { name: 'named targetPort of 16 characters (IANA)', kind: 'Service', raw: svc({}, { ports: [{ port: 80, targetPort: 'abcdefghijklmnop' }] }), field: 'spec.ports[0].targetPort' },
  { name: 'named targetPort with a double hyphen (IANA)', kind: 'Service', raw: svc({}, { ports: [{ port: 80, targetPort: 'a--b' }] }), field: 'spec.ports[0].targetPort' },
  { name: 'clusterIP with a zone', kind: 'Service', raw: svc({}, { clusterIP: 'fe80::5%eth0' }), field: 'spec.clusterIP' },
  { name: 'externalIP with a zone', kind: 'Service', raw: svc({}, { externalIPs: ['fe80::5%eth0'] }), field: 'spec.externalIPs[0]' },
  { name: 'source range with a zone', kind: 'Service', raw: svc({}, { loadBalancerSourceRanges: ['fe80::5%eth0/64'] }), field: 'spec.loadBalancerSourceRanges[0]' },
  { name: 'externalName with a space', kind: 'Service', raw: svc({}, { type: 'ExternalName', externalName: 'a b.example' }), field: 'spec.externalName' },
  { name: 'service-proxy-name label with a newline', kind: 'Service', raw: svc({ labels: { 'service.kubernetes.io/service-proxy-name': 'a\nb' } }), field: 'metadata.labels.service.kubernetes.io/service-proxy-name' },
  { name: 'endpoint fe80::5%eth0', kind: 'EndpointSlice', raw: slice({ addressType: 'IPv6', endpoints: [{ addresses: ['fe80::5%eth0'] }] }), field: 'endpoints[0].addresses[0]' },
  { name: 'endpoint IPv4 with a zone', kind: 'EndpointSlice', raw: slice({ endpoints: [{ addresses: ['10.0.0.1%eth0'] }] }), field: 'endpoints[0].addresses[0]' },
  { name: 'slice port name with a quote', kind: 'EndpointSlice', raw: slice({ ports: [{ name: 'a"b', port: 80 }] }), field: 'ports[0].name' },
  { name: 'slice name with a newline', kind: 'EndpointSlice', raw: slice({}, { name: 'a\nb' }), field: 'metadata.name' },
  { name: 'slice service-name label with a newline', kind: 'EndpointSlice', raw: slice({}, { labels: { 'kubernetes.io/service-name': INJECTION } }), field: 'metadata.labels.kubernetes.io/service-name' },
  { name: 'FQDN address with a space', kind: 'EndpointSlice', raw: slice({ addressType: 'FQDN', endpoints: [{ addresses: ['a b'] }] }), field: 'endpoints[0].addresses[0]' },
  { name: 'endpoint hostname with a dot', kind: 'EndpointSlice', raw: ep({ hostname: 'a.b' }), field: 'endpoints[0].hostname' },
  { name: 'endpoint nodeName with a space', kind: 'EndpointSlice', raw: ep({ nodeName: 'node 1' }), field: 'endpoints[0].nodeName' },
  { name: 'endpoint targetRef name with a newline', kind: 'EndpointSlice', raw: ep({ targetRef: { kind: 'Pod', name: 'a\nb' } }), field: 'endpoints[0].targetRef.name' },
  { name: 'node name with a space', kind: 'Node', raw: { metadata: { name: 'node 1' } }, field: 'metadata.name' },
  { name: 'node label value with a newline', kind: 'Node', raw: { metadata: { name: 'n', labels: { 'topology.kubernetes.io/zone': 'a\nb' } } }, field: 'metadata.labels.topology.kubernetes.io/zone' },
  { name: 'node InternalIP with a zone', kind: 'Node', raw: { metadata: { name: 'n' }, status: { addresses: [{ type: 'InternalIP', address: 'fe80::1%eth0' }] } }, field: 'status.addresses[0].address' },
  { name: 'pod name with a quote', kind: 'Pod', raw: { metadata: { name: 'p"', namespace: 'shop' } }, field: 'metadata.name' },
  { name: 'pod IP with a zone', kind: 'Pod', raw: { metadata: { name: 'p' }, status: { podIP: 'fe80::1%eth0' } }, field: 'status.podIP' },
  { name: 'pod hostname with upper case', kind: 'Pod', raw: { metadata: { name: 'p' }, spec: { hostname: 'Host' } }, field: 'spec.hostname' },
  { name: 'namespace object with a dot', kind: 'Namespace', raw: { metadata: { name: 'a.b' } }, field: 'metadata.name' },
  { name: 'IPAM block node with a newline', kind: 'IPAMBlock', raw: { metadata: { name: 'b' }, spec: { cidr: '10.0.0.0/26', node: 'n\nx' } }, field: 'spec.node' },
];

t.test('each invalid field is refused with an InvalidObjectError naming the object and the field', async (t) => {
  for (const row of rows) {
    let err: unknown;
    try {
      convertObject(row.kind, row.raw);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof InvalidObjectError, `${row.name}: refused`);
    const e = err as InvalidObjectError;
    t.equal(e?.field, row.field, `${row.name}: names the field`);
    t.equal(e?.kind, row.kind, `${row.name}: names the kind`);
    t.notOk(/[\n\r]/.test(e?.message ?? ''), `${row.name}: the message is one line`);
    t.ok((e?.message.length ?? 0) < 600, `${row.name}: the message is short`);
  }
});

t.test('valid names at the limits are kept', async (t) => {
  const ok: { name: string; kind: Kind; raw: unknown }[] = [
    { name: '63-character service name', kind: 'Service', raw: svc({ name: 'a'.repeat(63) }) },
    { name: 'service name with hyphens and digits', kind: 'Service', raw: svc({ name: 'web-2-x' }) },
    { name: 'named targetPort of 15 characters', kind: 'Service', raw: svc({}, { ports: [{ port: 80, targetPort: 'abcdefghijklmno' }] }) },
    { name: 'port names with digits first (DNS-1123 label)', kind: 'Service', raw: svc({}, { ports: [{ name: '8080-tcp', port: 80 }, { name: 'b', port: 81 }] }) },
    { name: 'one port of two protocols', kind: 'Service', raw: svc({}, { ports: [{ name: 'dns', port: 53 }, { name: 'dns-udp', port: 53, protocol: 'UDP' }] }) },
    { name: 'slice name a subdomain', kind: 'EndpointSlice', raw: slice({}, { name: 'web.abc-1' }) },
    { name: 'node name a subdomain', kind: 'Node', raw: { metadata: { name: 'node-1.example.com', labels: { 'kubernetes.io/hostname': 'node-1.example.com', empty: '' } } } },
    { name: 'IPAM block named after its CIDR', kind: 'IPAMBlock', raw: { metadata: { name: 'fd00--1-0-122' }, spec: { cidr: 'fd00::1:0/122', node: 'n1' } } },
  ];
  for (const row of ok) t.doesNotThrow(() => convertObject(row.kind, row.raw), row.name);
});
