import t from 'tap';
import { Registry } from 'prom-client';
import { buildConfig, proxierOptions } from '../../../src/agent/config.ts';
import type { AgentContext } from '../../../src/agent/component.ts';
import { configuredBackend } from '../../../src/agent/proxy-backends.ts';
import { silentLogger } from '../../../src/base/log.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { ProxierComponent } from '../../../src/proxier/component.ts';
import type { ProxierComponentDeps } from '../../../src/proxier/component.ts';
import { FakeConntrackTable } from '../../../src/proxier/conntrack-table.ts';
import { FakeHealthCheckServers } from '../../../src/proxier/healthcheck-servers.ts';
import type { Family } from '../../../src/proxier/plan.ts';
import { service } from '../../helpers/objects.ts';
import { FakeBackend } from './fake-backend.ts';
import { FakeClock } from './fake-clock.ts';

function ctx(doc: Record<string, unknown> = {}): AgentContext {
  return { config: buildConfig({ nodeName: 'node-a', ...doc }), log: silentLogger, store: new ObjectStore(), metrics: new Registry(), nodeName: 'node-a' };
}

/**
 * The configured backend as the agent's registry sets it up (its sync
 * periods from its own config section), making fake backends.
 */
async function deps(c: AgentContext, backends: Map<Family, FakeBackend>, failing: Family[] = [], clock = new FakeClock()) {
  const configured = (await configuredBackend(c.config, { log: c.log }))!;
  return {
    backend: {
      periods: configured.periods,
      create: (family: Family) => {
        if (failing.includes(family)) throw new Error(`no ip${family === 6 ? '6' : ''}tables`);
        const b = new FakeBackend();
        backends.set(family, b);
        return b;
      },
    },
    families: [4, 6] as Family[],
    conntrackTable: new FakeConntrackTable(),
    healthChecks: new FakeHealthCheckServers(),
    applySysctls: false,
    clock,
  };
}

const proxierComponent = (c: AgentContext, d: Omit<ProxierComponentDeps, 'proxy'>) => new ProxierComponent(c, { proxy: proxierOptions(c.config), ...d });

const syncAll = (c: AgentContext) => (['Service', 'EndpointSlice', 'Node'] as const).forEach((k) => c.store.markSynced(k));

t.test('runs one backend per family and syncs both', async (t) => {
  const c = ctx();
  const backends = new Map<Family, FakeBackend>();
  const clock = new FakeClock();
  const comp = proxierComponent(c, await deps(c, backends, [], clock));
  c.store.upsert(service('ns', 'ds', { clusterIPs: ['10.96.0.1', 'fd00::1'], ipFamilies: ['IPv4', 'IPv6'] }));
  await comp.start();
  syncAll(c);
  await clock.advance(0);
  t.same([...backends.keys()], [4, 6]);
  t.equal(backends.get(4)?.syncs.length, 1);
  t.equal(backends.get(6)?.last?.plans.get('ns/ds:http/tcp')?.clusterIP, 'fd00::1');
  t.equal(comp.healthy(), true);
  await comp.stop();
});

t.test('a node without IPv6 support proxies IPv4 only', async (t) => {
  const c = ctx();
  const backends = new Map<Family, FakeBackend>();
  const comp = proxierComponent(c, await deps(c, backends, [6]));
  await comp.start();
  t.same([...backends.keys()], [4]);
  await comp.stop();
});

t.test('no IPv4 backend is fatal, with the backend error', async (t) => {
  const c = ctx();
  const comp = proxierComponent(c, await deps(c, new Map(), [4]));
  await t.rejects(comp.start(), /no iptables/);
});

t.test('sync periods come from the configured backend (its own config section)', async (t) => {
  // Not the defaults (1s, 30s, 1h), nor another mode's section.
  const c = ctx({ proxy: { mode: 'iptables', iptables: { minSyncPeriod: '0s', syncPeriod: '10s', fullSyncPeriod: '20s' }, ipvs: { syncPeriod: '1h', minSyncPeriod: '5s' } } });
  const backends = new Map<Family, FakeBackend>();
  const clock = new FakeClock();
  const comp = proxierComponent(c, { ...(await deps(c, backends, [], clock)), families: [4] });
  await comp.start();
  syncAll(c);
  await clock.advance(0);
  c.store.upsert(service('ns', 'a'));
  await clock.advance(0);
  t.equal(backends.get(4)?.syncs.length, 2, 'a change is applied at once: the iptables minSyncPeriod (0s)');
  await clock.advance(10_000);
  t.equal(backends.get(4)?.syncs.length, 2, 'no full sync yet after the syncPeriod (10s)');
  await clock.advance(10_000);
  t.equal(backends.get(4)?.syncs.length, 3, 'periodic sync after the iptables fullSyncPeriod (20s), checked every syncPeriod');
  t.equal(backends.get(4)?.last?.full, true);
  await comp.stop();
});

t.test('a bad nodePortAddresses entry is a config error naming the key', async (t) => {
  const c = ctx({ proxy: { nodePortAddresses: ['10.0.0.0/33'] } });
  const d = await deps(c, new Map());
  t.throws(() => proxierComponent(c, d), {
    code: 'ERR_CONFIG',
    message: /proxy\.nodePortAddresses/,
  });
});
