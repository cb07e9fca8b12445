// The cluster most DNS tests answer from (names follow CoreDNS's own test
// tables where they overlap).
import type { AnyObject, Namespace } from '../../../src/k8s/objects.ts';
import { endpoint, endpointSlice, pod, service, servicePort } from '../../helpers/objects.ts';

export function namespace(name: string): Namespace {
  return { kind: 'Namespace', meta: { namespace: '', name, uid: `uid-${name}`, resourceVersion: '1' } };
}

export function clusterObjects(): AnyObject[] {
  return [
    namespace('testns'),
    namespace('default'),
    namespace('kube-system'),
    service('kube-system', 'kube-dns', { clusterIPs: ['10.96.0.10'], ports: [servicePort({ name: 'dns', protocol: 'UDP', port: 53 })] }),
    service('testns', 'svc1', { clusterIPs: ['10.0.0.1'], ports: [servicePort({ name: 'http', port: 80 })] }),
    endpointSlice('testns', 'svc1', 'svc1-a', [endpoint('172.0.0.1', { hostname: 'pod-one' })]),
    service('testns', 'svc6', { clusterIPs: ['1234:abcd::1'], ipFamilies: ['IPv6'], ports: [servicePort({ name: 'http', port: 80 })] }),
    service('testns', 'dual', {
      clusterIPs: ['10.0.0.3', '10::3'],
      ipFamilies: ['IPv4', 'IPv6'],
      ports: [servicePort({ name: 'http', port: 80 }), servicePort({ name: '', protocol: 'UDP', port: 53 })],
    }),
    service('testns', 'hdls1', { clusterIPs: [], headless: true, ports: [servicePort({ name: 'http', port: 80 })] }),
    endpointSlice('testns', 'hdls1', 'hdls1-v4', [
      endpoint('172.0.0.2'),
      endpoint('172.0.0.3'),
      endpoint('172.0.0.4', { hostname: 'dup-name' }),
      endpoint('172.0.0.5', { hostname: 'dup-name' }),
      endpoint('172.0.0.9', { ready: false }),
    ], { ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
    endpointSlice('testns', 'hdls1', 'hdls1-v6', [endpoint('5678:abcd::1'), endpoint('5678:abcd::2')], {
      addressType: 'IPv6',
      ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    }),
    service('testns', 'hdlsnone', { clusterIPs: [], headless: true }),
    endpointSlice('testns', 'hdlsnone', 'hdlsnone-a', [endpoint('172.0.1.1', { ready: false })]),
    service('testns', 'hdlspub', { clusterIPs: [], headless: true, publishNotReadyAddresses: true }),
    endpointSlice('testns', 'hdlspub', 'hdlspub-a', [endpoint('172.0.2.1', { ready: false, hostname: 'web-0' })]),
    service('testns', 'external', { type: 'ExternalName', clusterIPs: [], externalName: 'ext.interwebs.test', ports: [] }),
    service('testns', 'external-to-service', { type: 'ExternalName', clusterIPs: [], externalName: 'svc1.testns.svc.cluster.local', ports: [] }),
    service('testns', 'external-ip', { type: 'ExternalName', clusterIPs: [], externalName: '1.2.3.4', ports: [] }),
    service('default', 'web', { clusterIPs: ['10.96.5.5'], ports: [servicePort({ name: 'http', port: 80 })] }),
    pod('testns', 'pod-a', '10.244.1.5'),
  ];
}
