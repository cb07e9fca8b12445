// Least privilege means the roles in deploy/ are exactly what the code does
// (issue 13, point 7). Each identity's processes run here against the test
// API server, with that identity's token, through their own code paths: the
// agent's sources for every kind its components read (the deploy config
// plus --dns), the block claims its CNI server makes (with the agent's
// connection: claim, release, GC, the podCIDR mode's Node read), and
// `netlet dns`'s sources for deploy/'s Corefile. Every request is recorded
// by the server as (API group, resource, verb) under the token that made it;
// the set per identity must equal what its ClusterRole grants, both ways: a
// verb the code starts using that the role lacks fails here, and so does a
// grant that no code uses.
//
// A new module that talks to the API needs a scenario here: the last test
// fails when a file outside the known ones creates an API client.
import t from 'tap';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { Registry } from 'prom-client';
import { buildConfig } from '../../../src/agent/config.ts';
import type { AgentContext } from '../../../src/agent/component.ts';
import { createSources } from '../../../src/agent/sources.ts';
import type { AgentSources } from '../../../src/agent/agent-sources.ts';
import { silentLogger } from '../../../src/base/log.ts';
import { parseConflist } from '../../../src/cni/config.ts';
import { DnsComponent, kindsToWatch } from '../../../src/dns/component.ts';
import { createIpam } from '../../../src/ipam/index.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { startApiServer } from '../../apiserver/server.ts';
import type { ApiServer } from '../../apiserver/server.ts';
import { writeKubeconfig } from '../../apiserver/kubeconfig.ts';
import { eventually } from '../../helpers/netns.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const DEPLOY = join(ROOT, 'deploy');

type Doc = Record<string, any>;
const docs: Doc[] = readdirSync(DEPLOY)
  .filter((f) => /\.ya?ml$/.test(f))
  .flatMap((f) => parseAllDocuments(readFileSync(join(DEPLOY, f), 'utf8')).map((d) => d.toJS() as Doc))
  .filter(Boolean);
const find = (kind: string, name: string): Doc => {
  const doc = docs.find((d) => d.kind === kind && d.metadata?.name === name);
  if (!doc) throw new Error(`deploy/ has no ${kind} ${name}`);
  return doc;
};

/** "group/resource verb" for every grant of the ClusterRoles bound to the service account a workload runs as. */
function grantsOf(workloadKind: string, workloadName: string, from: Doc[] = docs): string[] {
  const workload = find(workloadKind, workloadName);
  const sa = { name: workload.spec.template.spec.serviceAccountName, namespace: workload.metadata.namespace };
  const roles = from
    .filter((d) => d.kind === 'ClusterRoleBinding' && d.subjects?.some((s: Doc) => s.kind === 'ServiceAccount' && s.name === sa.name && s.namespace === sa.namespace))
    .map((b) => from.find((d) => d.kind === 'ClusterRole' && d.metadata?.name === b.roleRef.name) ?? find('ClusterRole', b.roleRef.name));
  const out = new Set<string>();
  for (const role of roles) {
    for (const rule of role.rules) for (const g of rule.apiGroups) for (const r of rule.resources) for (const v of rule.verbs) out.add(`${g}/${r} ${v}`);
  }
  return [...out].sort();
}

/** "group/resource verb" for every API request a token made. */
function callsOf(api: ApiServer, token: string): string[] {
  const out = new Set<string>();
  for (const r of api.stats.log()) {
    if (r.bearer !== token) continue;
    const group = /^\/apis\/([^/]+)\//.exec(r.url)?.[1] ?? '';
    out.add(r.resource ? `${group}/${r.resource} ${r.verb}` : r.verb);
  }
  return [...out].sort();
}

function context(config: ReturnType<typeof buildConfig>): AgentContext {
  return { config, log: silentLogger, store: new ObjectStore(), metrics: new Registry(), nodeName: config.nodeName };
}

/** Starts the sources, waits for them to list and watch every kind, then stops them. */
async function listAndWatch(api: ApiServer, sources: AgentSources, kinds: number): Promise<void> {
  await sources.start();
  await eventually(() => api.watches.size >= kinds, 10_000);
  await sources.stop();
}

t.test('each ClusterRole grants exactly the API calls its processes make', async (t) => {
  const api = await startApiServer({ token: 'netlet' });
  t.teardown(() => api.close());
  api.setTokens('netlet', 'netlet-dns');
  const dir = t.testdir();
  const agentKubeconfig = await writeKubeconfig(join(dir, 'agent.kubeconfig'), { server: api.url, token: 'netlet' });
  const dnsKubeconfig = await writeKubeconfig(join(dir, 'dns.kubeconfig'), { server: api.url, token: 'netlet-dns' });
  api.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' }, spec: { podCIDRs: ['10.250.1.0/24'] } });
  // deploy/'s BGP CRDs installed, so their resources are served and watched (IPAMBlocks the server serves itself).
  for (const crd of docs.filter((d) => d.kind === 'CustomResourceDefinition' && d.metadata.name !== 'ipamblocks.netlet.io')) api.create(crd);

  // The agent as deploy/ configures it, with --dns on top (the agent may serve DNS itself) and
  // bgp.enabled (the BGP mode runs with the same role: it adds the BGPConfiguration and BGPPeer watches).
  const agentYaml = parseYaml(find('ConfigMap', 'netlet-config').data['agent.yaml']);
  // Its identity for netlet-cni written under the test's folder, not the node's /run/netlet.
  const agentCtx = context(buildConfig({ ...agentYaml, snapshot: '', cni: { ...agentYaml.cni, kubeconfig: join(dir, 'agent-identity') }, bgp: { ...agentYaml.bgp, enabled: true } }, { kubeconfig: agentKubeconfig, nodeName: 'node-a', dns: true }));
  const agentSources = await createSources(agentCtx);
  await listAndWatch(api, agentSources, 8);

  // Its CNI server's block claims, with the agent's connection (as CniServerComponent passes it).
  const conflist = JSON.parse(find('ConfigMap', 'netlet-config').data['10-netlet.conflist']);
  const netconf = parseConflist(conflist);
  const ipamOptions = { nodeName: 'node-a', connection: agentSources.connection };
  const blocks = await createIpam({ ...(netconf.ipam as object), dataDir: join(dir, 'ipam') }, ipamOptions);
  const owner = { containerID: 'c1', ifname: 'eth0', podNamespace: 'default', podName: 'p1' };
  await blocks.allocate(owner);
  await blocks.release(owner);
  await blocks.garbageCollect([]); // verifies the node's blocks and releases the empty one
  await blocks.close();
  t.equal(api.list('ipamblocks').length, 0, 'the claim was made and given back');
  const podCidr = await createIpam({ type: 'netlet-ipam', mode: 'podCIDR', datastore: 'kubernetes', dataDir: join(dir, 'ipam-podcidr') }, ipamOptions);
  await podCidr.allocate(owner);
  await podCidr.close();

  // `netlet dns` as deploy/ runs it: its Corefile, its own identity (mirrors src/agent/commands/dns.ts).
  const corefile = join(dir, 'Corefile');
  writeFileSync(corefile, find('ConfigMap', 'netlet-dns').data.Corefile);
  const dnsCtx = context(buildConfig({}, { kubeconfig: dnsKubeconfig, proxyMode: 'none', dns: true }));
  const dnsConfig = await new DnsComponent(dnsCtx, { corefile }).load();
  const dnsKinds = kindsToWatch(dnsConfig);
  await listAndWatch(api, await createSources(dnsCtx, dnsKinds, ['Pod']), dnsKinds.length);

  t.same(callsOf(api, 'netlet'), grantsOf('DaemonSet', 'netlet'), 'the agent (DaemonSet netlet): ClusterRole netlet = its calls');
  t.same(callsOf(api, 'netlet-dns'), grantsOf('Deployment', 'netlet-dns'), 'netlet dns (Deployment netlet-dns): ClusterRole netlet-dns = its calls');
});

t.test('with kubernetes multicluster, netlet dns makes exactly the calls deploy/ plus deploy/multicluster/ grant', async (t) => {
  const api = await startApiServer({ token: 'netlet-dns' });
  t.teardown(() => api.close());
  const dir = t.testdir();
  const dnsKubeconfig = await writeKubeconfig(join(dir, 'dns.kubeconfig'), { server: api.url, token: 'netlet-dns' });
  // The MCS API's CRD, as it installs it (netlet ships none).
  api.create({
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'serviceimports.multicluster.x-k8s.io' },
    spec: { group: 'multicluster.x-k8s.io', scope: 'Namespaced', names: { plural: 'serviceimports', kind: 'ServiceImport' }, versions: [{ name: 'v1alpha1', served: true, storage: true }] },
  });
  const corefile = join(dir, 'Corefile');
  writeFileSync(corefile, find('ConfigMap', 'netlet-dns').data.Corefile.replace(/kubernetes cluster\.local([^{]*)\{/, 'kubernetes cluster.local clusterset.local$1{\n        multicluster clusterset.local'));
  const dnsCtx = context(buildConfig({}, { kubeconfig: dnsKubeconfig, proxyMode: 'none', dns: true }));
  const dnsConfig = await new DnsComponent(dnsCtx, { corefile, ownSources: true }).load();
  t.strictSame(dnsConfig.multicluster, ['clusterset.local.'], 'the Corefile asks for the clusterset zone');
  const dnsKinds = kindsToWatch(dnsConfig);
  await listAndWatch(api, await createSources(dnsCtx, dnsKinds, ['Pod']), dnsKinds.length);
  const extra = join(DEPLOY, 'multicluster');
  const withMulticluster = [...docs, ...readdirSync(extra).filter((f) => /\.ya?ml$/.test(f)).flatMap((f) => parseAllDocuments(readFileSync(join(extra, f), 'utf8')).map((d) => d.toJS() as Doc))];
  t.same(callsOf(api, 'netlet-dns'), grantsOf('Deployment', 'netlet-dns', withMulticluster), 'ClusterRoles netlet-dns and netlet-dns-multicluster = its calls');
});

t.test('the modules that create API clients are the ones exercised above', async (t) => {
  const src = join(ROOT, 'src');
  const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
  const creating = files
    .filter((f) => f !== join('k8s', 'client.ts')) // the client itself
    .filter((f) => /ApiClient\.fromConnection\(|new ApiClient\(/.test(readFileSync(join(src, f), 'utf8')))
    .map((f) => relative(src, join(src, f)));
  t.same(creating.sort(), ['agent/api-sources.ts', 'ipam/claims-kubernetes.ts'], 'a new one needs a scenario in this test');
});
