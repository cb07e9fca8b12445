// The cluster of the agent-proxy tests (proxier/agent-proxy.test.ts for
// iptables, nftables/agent-proxy.test.ts), as a manifest folder's YAML: node-a
// at 10.244.0.1; kube-system/dns, UDP 53 at 10.96.0.10; optionally
// default/web, 80 → the slice port named http (8080) at 10.96.0.20 on
// 10.244.0.2; default/lb, a LoadBalancer with externalTrafficPolicy Local and
// healthCheckNodePort 32150, served by 10.244.0.9 on node-b and, when
// lbLocal, by 10.244.0.2 on node-a.

import { nodeYaml, serviceYaml, sliceYaml } from '../../helpers/manifest-yaml.ts';

const LB = `apiVersion: v1
kind: Service
metadata: {name: lb, namespace: default}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.30
  clusterIPs: [10.96.0.30]
  externalTrafficPolicy: Local
  healthCheckNodePort: 32150
  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30150}]
status: {loadBalancer: {ingress: [{ip: 203.0.113.50}]}}
`;

export function agentProxyManifests(dnsEndpoint: string, opts: { web: boolean; lbLocal: boolean }): string {
  const http = { name: 'http', port: 8080, protocol: 'TCP' } as const;
  return [
    nodeYaml('node-a', '10.244.0.1'),
    serviceYaml('kube-system', 'dns', '10.96.0.10', { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }),
    sliceYaml('kube-system', 'dns', 'dns-1', { name: 'dns', port: 53, protocol: 'UDP' }, [{ ip: dnsEndpoint, nodeName: 'node-a' }]),
    ...(opts.web
      ? [
          serviceYaml('default', 'web', '10.96.0.20', { name: 'http', port: 80, protocol: 'TCP', targetPort: 'web' }),
          sliceYaml('default', 'web', 'web-1', http, [{ ip: '10.244.0.2', nodeName: 'node-a' }]),
        ]
      : []),
    LB,
    sliceYaml('default', 'lb', 'lb-1', http, [...(opts.lbLocal ? [{ ip: '10.244.0.2', nodeName: 'node-a' }] : []), { ip: '10.244.0.9', nodeName: 'node-b' }]),
  ].join('---\n');
}
