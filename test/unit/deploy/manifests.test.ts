// The deploy/ manifests are what operators apply: parse every document and
// check them against the agent's own defaults, so the two cannot drift.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseConflist } from '../../../src/cni/config.ts';
import { buildConfig, configSchema } from '../../../src/agent/config.ts';
import { defaults } from '../../../src/base/config-schema.ts';

const DEPLOY = new URL('../../../deploy/', import.meta.url).pathname;

interface Doc {
  file: string;
  obj: Record<string, any>;
}

function loadAll(): Doc[] {
  const docs: Doc[] = [];
  for (const file of readdirSync(DEPLOY).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const d of parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8'))) {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
      const obj = d.toJS();
      if (obj) docs.push({ file, obj });
    }
  }
  return docs;
}

const docs = loadAll();
function find(kind: string, name: string): Record<string, any> {
  const found = docs.find((d) => d.obj.kind === kind && d.obj.metadata?.name === name);
  if (!found) throw new Error(`deploy/ has no ${kind} ${name}`);
  return found.obj;
}

t.test('every document parses and has apiVersion, kind and a name', async (t) => {
  t.ok(docs.length >= 10, `${docs.length} documents`);
  for (const { file, obj } of docs) {
    t.ok(obj.apiVersion && obj.kind && obj.metadata?.name, `${file}: ${obj.kind}/${obj.metadata?.name}`);
  }
});

// That each role grants exactly the calls its processes make is checked
// against the code itself: test/integration/deploy/rbac-equals-code.test.ts.
t.test('RBAC has no wildcards; DNS only reads', async (t) => {
  const agent = find('ClusterRole', 'netlet');
  for (const rule of agent.rules) {
    t.notOk(rule.verbs.includes('*') || rule.resources.includes('*') || rule.apiGroups.includes('*'), 'no wildcards');
  }
  const dns = find('ClusterRole', 'netlet-dns');
  for (const rule of dns.rules) t.same([...rule.verbs].sort(), ['list', 'watch'], `dns: ${rule.resources} read only`);
});

t.test("the DaemonSet's ports and probes match the agent's defaults", async (t) => {
  const ds = find('DaemonSet', 'netlet');
  const spec = ds.spec.template.spec;
  const agent = spec.containers.find((c: any) => c.name === 'netlet');
  const cm = find('ConfigMap', 'netlet-config');
  const cfg = buildConfig((await import('yaml')).parse(cm.data['agent.yaml']), { nodeName: 'n' });
  const healthzPort = Number(cfg.healthzBindAddress.split(':').pop());
  const metricsPort = Number(cfg.metricsBindAddress.split(':').pop());
  const def = defaults(configSchema) as { healthzBindAddress: string; metricsBindAddress: string };
  t.equal(cfg.healthzBindAddress, def.healthzBindAddress, 'ConfigMap keeps kube-proxy healthz default');
  t.equal(cfg.metricsBindAddress, def.metricsBindAddress, 'ConfigMap keeps kube-proxy metrics default');
  t.equal(agent.livenessProbe.httpGet.port, healthzPort);
  t.equal(agent.livenessProbe.httpGet.path, '/livez');
  t.equal(agent.readinessProbe.httpGet.port, healthzPort);
  t.equal(agent.readinessProbe.httpGet.path, '/healthz');
  t.ok(metricsPort > 0);
  // On the host network a declared port is a hostPort: the surge pod of an overlapping update could not be scheduled beside the old one.
  t.equal(agent.ports, undefined, 'no ports list (each would be a hostPort)');
  t.same(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, 'the new agent starts beside the old one');
  t.ok(ds.spec.minReadySeconds > 0, 'and has time to sync before the old one stops');
  t.ok(spec.terminationGracePeriodSeconds * 1000 > cfg.dns.lameduck, 'the lameduck fits in the grace period');
  const { AGENT_KUBECONFIG } = await import('../../../src/ipam/claims-kubernetes.ts');
  t.equal(cfg.cni.kubeconfig, AGENT_KUBECONFIG, "the agent writes its identity where netlet-cni looks for it");
  t.equal(spec.hostNetwork, true);
  t.equal(spec.priorityClassName, 'system-node-critical');
  t.same(spec.tolerations, [{ operator: 'Exists' }], 'tolerates every taint');
  t.equal(agent.securityContext.privileged, false, 'capabilities, not blanket privilege');
  t.ok(agent.securityContext.capabilities.add.includes('NET_ADMIN'));
  t.ok(spec.initContainers.some((c: any) => c.command.includes('install-cni')), 'init container installs the CNI plugin');
  for (const e of agent.env.filter((e: any) => e.valueFrom?.configMapKeyRef)) {
    const ref = e.valueFrom.configMapKeyRef;
    t.ok(find('ConfigMap', ref.name).data[ref.key], `${e.name} comes from ${ref.name}/${ref.key}, which exists`);
  }
  t.ok(agent.env.some((e: any) => e.name === 'KUBERNETES_SERVICE_HOST'), 'the API server is reached without the kubernetes ClusterIP');
});

t.test('the DNS Service is compatible with kube-dns', async (t) => {
  const svc = find('Service', 'kube-dns');
  t.equal(svc.metadata.namespace, 'kube-system');
  t.equal(svc.metadata.labels['k8s-app'], 'kube-dns');
  t.same(
    svc.spec.ports.map((p: any) => `${p.port}/${p.protocol}`).sort(),
    ['53/TCP', '53/UDP', '9153/TCP'],
  );
  const dep = find('Deployment', 'netlet-dns');
  t.same(dep.spec.template.metadata.labels, svc.spec.selector, 'Service selects the DNS pods');
  const c = dep.spec.template.spec.containers[0];
  t.equal(c.livenessProbe.httpGet.port, 8080);
  t.equal(c.livenessProbe.httpGet.path, '/health');
  t.equal(c.readinessProbe.httpGet.port, 8181);
  t.equal(c.readinessProbe.httpGet.path, '/ready');
});

t.test('the init container installs the conflist of the ConfigMap, and it is valid', async (t) => {
  const cm = find('ConfigMap', 'netlet-config');
  const conflistText: string = cm.data['10-netlet.conflist'];
  const conflist = JSON.parse(conflistText);
  const netconf = parseConflist(conflist);
  t.equal(netconf.type, 'netlet-cni');
  t.equal((netconf.ipam as { datastore: string }).datastore, 'kubernetes', 'nodes claim blocks through the API, never the same one');

  // Run the init container's own command, with /host and the ConfigMap mount moved to a temp dir.
  const root = mkdtempSync(join(tmpdir(), 'netlet-deploy-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, '10-netlet.conflist'), conflistText);
  const init = find('DaemonSet', 'netlet').spec.template.spec.initContainers.find((c: any) => c.name === 'install-cni');
  const [, ...args] = init.command as string[];
  const rebased = args.map((a) => a.replace(/^\/host(?=\/|$)/, join(root, 'host')).replace('/etc/netlet/', `${root}/`).replace(/^\/run\/netlet\//, `${root}/run/`));
  const bin = new URL('../../../bin/netlet.js', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [bin, ...rebased], { encoding: 'utf8' });
  t.equal(r.status, 0, `install-cni exits 0 ${r.stderr}`);
  const written = JSON.parse(readFileSync(join(root, 'host/etc/cni/net.d/10-netlet.conflist'), 'utf8'));
  t.same(written, conflist, 'the written conflist is the ConfigMap one');
});
