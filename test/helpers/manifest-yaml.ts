// YAML documents for a manifest folder (--manifests), as an agent test
// writes them: a Node, a ClusterIP Service, an EndpointSlice. Join them with
// `---\n`.

/** A Node with one InternalIP. */
export const nodeYaml = (name: string, internalIP: string) => `apiVersion: v1
kind: Node
metadata: {name: ${name}}
status: {addresses: [{type: InternalIP, address: ${internalIP}}]}
`;

export interface YamlServicePort {
  name: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  targetPort: number | string;
}

/** A ClusterIP Service (single-stack) with one port. */
export const serviceYaml = (namespace: string, name: string, clusterIP: string, p: YamlServicePort) => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  clusterIP: ${clusterIP}
  clusterIPs: [${clusterIP}]
  ports: [{name: ${p.name}, port: ${p.port}, protocol: ${p.protocol}, targetPort: ${p.targetPort}}]
`;

/** An IPv4 EndpointSlice of `service` with one port, each endpoint on its node, ready unless its conditions say otherwise. */
export const sliceYaml = (namespace: string, service: string, name: string, p: Omit<YamlServicePort, 'targetPort'>, endpoints: { ip: string; nodeName: string; conditions?: string }[]) => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}, namespace: ${namespace}, labels: {kubernetes.io/service-name: ${service}}}
addressType: IPv4
ports: [{name: ${p.name}, port: ${p.port}, protocol: ${p.protocol}}]
endpoints:
${endpoints.map((e) => `- {addresses: [${e.ip}], conditions: ${e.conditions ?? '{ready: true}'}, nodeName: ${e.nodeName}}\n`).join('')}`;
