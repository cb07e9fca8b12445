import t from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { buildConfig } from '../../../src/agent/config.ts';
import { createHealthServer } from '../../../src/base/http-servers.ts';
import { createSources } from '../../../src/agent/sources.ts';
import type { AgentContext } from '../../../src/agent/component.ts';
import { watchedKinds } from '../../../src/agent/api-sources.ts';
import { writeSnapshot } from '../../../src/k8s/snapshot.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { writeKubeconfig } from '../../apiserver/kubeconfig.ts';
import { startApiServer } from '../../apiserver/server.ts';
import { eventually } from '../../helpers/netns.ts';
import { service } from '../../helpers/objects.ts';
import { rawService } from './reflector-fixtures.ts';

// The agent's own wiring (sources.ts → api-sources.ts): --kubeconfig and
// --snapshot from the config, the offline state in /healthz details and in
// netlet_offline, and the way back online.

t.test('agent sources: offline from the snapshot at start, visible in /healthz and metrics, online when the API returns', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-offline-agent-'));
  const server = await startApiServer();
  const port = server.port;
  await server.close(); // down at start
  const kubeconfig = await writeKubeconfig(join(dir, 'kubeconfig'), { server: `http://127.0.0.1:${port}` });
  const snapshot = join(dir, 'snapshot.json');
  const saved = new Date('2026-01-02T03:04:05.000Z');
  await writeSnapshot(snapshot, [service('default', 'from-snapshot')], saved);

  const logs: { msg?: string }[] = [];
  const ctx: AgentContext = {
    config: buildConfig({}, { kubeconfig, snapshot, nodeName: 'n1', proxyMode: 'none' }),
    log: pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l)) }),
    store: new ObjectStore(),
    metrics: new Registry(),
    nodeName: 'n1',
  };
  const sources = await createSources(ctx);
  const health = createHealthServer({ healthy: () => sources.healthy(), lastUpdated: () => Date.now(), details: () => sources.details() });
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    await sources.stop();
    await new Promise((r) => health.close(r));
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const healthz = async () => {
    const res = await fetch(`http://127.0.0.1:${(health.address() as AddressInfo).port}/healthz`);
    return { code: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const offlineMetric = async () => Number((await ctx.metrics.getSingleMetric('netlet_offline')?.get())?.values[0]?.value);

  await sources.start();
  t.ok(ctx.store.get('Service', 'default/from-snapshot'), 'the snapshot is in the store');
  // Every kind the agent reads (all but ServiceImport, which only netlet dns's multicluster reads).
  t.ok(ctx.store.isSynced(...watchedKinds(ctx.config)));
  const h = await healthz();
  t.equal(h.code, 200);
  t.equal(h.body.offline, true);
  t.equal(h.body.snapshotTime, saved.toISOString());
  t.equal(await offlineMetric(), 1);
  t.ok(logs.some((l) => /offline/.test(l.msg ?? '')), 'a log line says the agent is offline');

  server.create(rawService('default', 1));
  await server.listen('127.0.0.1', port);
  await eventually(async () => (await offlineMetric()) === 0, 15_000);
  t.equal(ctx.store.get('Service', 'default/from-snapshot'), undefined, 'the snapshot-only object is gone');
  t.ok(ctx.store.get('Service', 'default/svc-1'));
  const back = await healthz();
  t.equal(back.code, 200);
  t.equal(back.body.offline, undefined);
});

t.test('agent sources: a kubeconfig naming a missing context fails start-up clearly', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-offline-agent-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = await writeKubeconfig(join(dir, 'kubeconfig'), { server: 'http://127.0.0.1:1', name: 'x' });
  await writeFile(kubeconfig, (await readFile(kubeconfig, 'utf8')).replace('current-context: x', 'current-context: prod'));
  const ctx: AgentContext = {
    config: buildConfig({}, { kubeconfig, nodeName: 'n1', proxyMode: 'none' }),
    log: pino({ level: 'silent' }),
    store: new ObjectStore(),
    metrics: new Registry(),
    nodeName: 'n1',
  };
  await t.rejects(createSources(ctx), { code: 'ERR_KUBECONFIG_CONTEXT', message: /context "prod" is not defined/ });
});
