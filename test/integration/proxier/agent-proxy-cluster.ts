// The cluster of the agent-proxy tests (proxier/agent-proxy.test.ts for
// iptables, nftables/agent-proxy.test.ts), as a manifest folder's YAML: node-a
// at 10.244.0.1; kube-system/dns, UDP 53 at 10.96.0.10; optionally
// default/web, 80 → the slice port named http (8080) at 10.96.0.20 on
// 10.244.0.2; default/lb, a LoadBalancer with externalTrafficPolicy Local and
// healthCheckNodePort 32150, served by 10.244.0.9 on node-b and, when
// lbLocal, by 10.244.0.2 on node-a.

import type * as Tap from 'tap';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../helpers/netns.ts';
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

/**
 * A node namespace linked to a pod namespace (node 10.244.0.1, pod 10.244.0.2
 * and .3, the service range routed to the pod link), and a manifest folder
 * whose cluster.yaml (`file`) holds `manifests`.
 */
export async function agentProxyLab(t: Tap.Test, name: string, manifests: string) {
  const lab = new Lab(name);
  t.teardown(() => lab.cleanup());
  const node = await lab.netns('node');
  const pod = await lab.netns('pod');
  const [nodeIf, podIf] = await lab.link(node, pod, '10.244.0.1/24', '10.244.0.2/24');
  await pod.ip('addr', 'add', '10.244.0.3/24', 'dev', podIf);
  await node.ip('route', 'add', '10.96.0.0/16', 'dev', nodeIf);

  const dir = await mkdtemp(join(tmpdir(), `nl${name}-agent-`));
  const file = join(dir, 'cluster.yaml');
  await writeFile(file, manifests);
  return { lab, node, pod, dir, file };
}
