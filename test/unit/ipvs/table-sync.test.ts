// The diff against a fake IPVS table: dump once, send only the changes in
// batches, drain TCP real servers, delete UDP ones at once, adopt a table
// left by an earlier agent, keep excluded virtual servers.
import t from 'tap';
import { destKey, serviceKey } from '../../../src/netlink/ipvs-codec.ts';
import type { IpvsDest, IpvsService } from '../../../src/netlink/ipvs-codec.ts';
import { IpvsSyncError, IpvsTableSync } from '../../../src/ipvs/table-sync.ts';
import type { IpvsState } from '../../../src/ipvs/table-diff.ts';
import { FakeIpvsTable } from './fake-ipvs-table.ts';

const svc = (address: string, port: number, protocol: 'tcp' | 'udp' = 'tcp', extra: Partial<IpvsService> = {}): IpvsService => ({
  family: 4,
  protocol,
  address,
  port,
  scheduler: 'rr',
  flags: 0,
  timeout: 0,
  ...extra,
});
const dest = (address: string, port = 8080, weight = 1): IpvsDest => ({ address, port, weight });

function state(...vss: Array<[IpvsService, IpvsDest[]]>): IpvsState {
  return new Map(vss.map(([s, ds]) => [serviceKey(s), { service: s, dests: new Map(ds.map((d) => [destKey(d), d])) }]));
}

const owned = { owned: () => true };

t.test('first sync adds everything in one batch after one dump', async (t) => {
  const table = new FakeIpvsTable();
  const sync = new IpvsTableSync(table, 4, owned);
  const r = await sync.sync(state([svc('10.0.0.1', 80), [dest('10.244.1.2'), dest('10.244.2.2')]], [svc('10.0.0.2', 53, 'udp'), [dest('10.244.1.3', 53)]]));
  t.same(table.text(), ['tcp/10.0.0.1/80 rr', '  -> 10.244.1.2:8080 1', '  -> 10.244.2.2:8080 1', 'udp/10.0.0.2/53 rr', '  -> 10.244.1.3:53 1']);
  t.equal(r.changes, 5);
  t.equal(r.roundTrips, 2, 'one (empty) service dump, one batch');
});

t.test('an unchanged sync sends nothing and dumps nothing', async (t) => {
  const table = new FakeIpvsTable();
  const sync = new IpvsTableSync(table, 4, owned);
  const want = state([svc('10.0.0.1', 80), [dest('10.244.1.2')]]);
  await sync.sync(want);
  const r = await sync.sync(want);
  t.same(r, { changes: 0, roundTrips: 0 });
});

t.test('one endpoint added to one of many services: one round trip', async (t) => {
  const table = new FakeIpvsTable();
  const sync = new IpvsTableSync(table, 4, owned);
  const many: Array<[IpvsService, IpvsDest[]]> = [];
  for (let i = 0; i < 1000; i++) many.push([svc(`10.0.${i >> 8}.${i & 255}`, 80), [dest('10.244.0.1')]]);
  await sync.sync(state(...many));
  many[7] = [many[7][0], [dest('10.244.0.1'), dest('10.244.0.2')]];
  const r = await sync.sync(state(...many), [serviceKey(many[7][0])]);
  t.same(r, { changes: 1, roundTrips: 1 });
  t.same(table.log.at(-1), { op: 'add-dest', service: many[7][0], dest: dest('10.244.0.2') });
});

t.test('scheduler and persistence changes update the service in place', async (t) => {
  const table = new FakeIpvsTable();
  const sync = new IpvsTableSync(table, 4, owned);
  await sync.sync(state([svc('10.0.0.1', 80), [dest('10.244.1.2')]]));
  await sync.sync(state([svc('10.0.0.1', 80, 'tcp', { flags: 1, timeout: 10800 }), [dest('10.244.1.2')]]));
  t.same(table.text(), ['tcp/10.0.0.1/80 rr persistent 10800', '  -> 10.244.1.2:8080 1']);
  t.equal(table.log.at(-1)!.op, 'update-service', 'not deleted and re-added (connections and persistence kept)');
});

t.test('a removed TCP endpoint drains at weight 0, then goes when idle', async (t) => {
  const table = new FakeIpvsTable();
  const sync = new IpvsTableSync(table, 4, owned);
  const s = svc('10.0.0.1', 80);
  await sync.sync(state([s, [dest('10.244.1.2'), dest('10.244.2.2')]]));
  table.conns.set(`${serviceKey(s)} 10.244.2.2:8080`, 3);
  const r = await sync.sync(state([s, [dest('10.244.1.2')]]));
  t.same(table.text(), ['tcp/10.0.0.1/80 rr', '  -> 10.244.1.2:8080 1', '  -> 10.244.2.2:8080 0']);
  t.ok(r.roundTrips <= 3, `a single change costs ${r.roundTrips} round trips`);
  t.same([...sync.draining], [serviceKey(s)]);
  // Still busy: kept.
  await sync.sync(state([s, [dest('10.244.1.2')]]), []);
  t.equal(table.text().length, 3);
  table.conns.clear();
  await sync.sync(state([s, [dest('10.244.1.2')]]), []);
  t.same(table.text(), ['tcp/10.0.0.1/80 rr', '  -> 10.244.1.2:8080 1']);
  t.same([...sync.draining], []);
});

t.test('an idle removed TCP endpoint goes in the same sync', async (t) => {
  const table = new FakeIpvsTable();
  const sync = new IpvsTableSync(table, 4, owned);
  const s = svc('10.0.0.1', 80);
  await sync.sync(state([s, [dest('10.244.1.2'), dest('10.244.2.2')]]));
  const r = await sync.sync(state([s, [dest('10.244.1.2')]]), [serviceKey(s)]);
  t.same(table.text(), ['tcp/10.0.0.1/80 rr', '  -> 10.244.1.2:8080 1']);
  t.equal(r.roundTrips, 3, 'weight 0, list the service, delete');
});

t.test('a draining endpoint that comes back gets its weight back', async (t) => {
  const table = new FakeIpvsTable();
  const sync = new IpvsTableSync(table, 4, owned);
  const s = svc('10.0.0.1', 80);
  await sync.sync(state([s, [dest('10.244.1.2')]]));
  table.conns.set(`${serviceKey(s)} 10.244.1.2:8080`, 1);
  await sync.sync(state([s, []]));
  t.same(table.text(), ['tcp/10.0.0.1/80 rr', '  -> 10.244.1.2:8080 0']);
  await sync.sync(state([s, [dest('10.244.1.2')]]));
  t.same(table.text(), ['tcp/10.0.0.1/80 rr', '  -> 10.244.1.2:8080 1']);
});

t.test('a removed UDP endpoint is deleted at once (k/k#71514)', async (t) => {
  const table = new FakeIpvsTable();
  const sync = new IpvsTableSync(table, 4, owned);
  const s = svc('10.0.0.10', 53, 'udp');
  await sync.sync(state([s, [dest('10.244.1.2', 53), dest('10.244.2.2', 53)]]));
  table.conns.set(`${serviceKey(s)} 10.244.2.2:53`, 5);
  await sync.sync(state([s, [dest('10.244.1.2', 53)]]));
  t.same(table.text(), ['udp/10.0.0.10/53 rr', '  -> 10.244.1.2:53 1']);
  t.same([...sync.draining], []);
});

t.test('a restarted agent adopts the table: only the difference is sent', async (t) => {
  const table = new FakeIpvsTable();
  const first = new IpvsTableSync(table, 4, owned);
  const want = state([svc('10.0.0.1', 80), [dest('10.244.1.2')]], [svc('10.0.0.2', 80), [dest('10.244.1.3')]]);
  await first.sync(want);
  table.log = [];
  // A leftover service from before, and one of ours that changed while we were down.
  await table.apply([{ op: 'add-service', service: svc('10.0.0.99', 80) }]);
  table.log = [];
  const second = new IpvsTableSync(table, 4, owned);
  const now = state([svc('10.0.0.1', 80), [dest('10.244.1.2')]], [svc('10.0.0.2', 80), [dest('10.244.1.4')]]);
  await second.sync(now);
  t.same(
    table.log.map((c) => `${c.op} ${serviceKey(c.service)}${'dest' in c ? ` ${destKey(c.dest)}` : ''}`),
    ['add-dest tcp/10.0.0.2/80 10.244.1.4:8080', 'update-dest tcp/10.0.0.2/80 10.244.1.3:8080', 'delete-service tcp/10.0.0.99/80', 'delete-dest tcp/10.0.0.2/80 10.244.1.3:8080'],
    'no service deleted and re-added: established connections keep flowing',
  );
});

t.test('virtual servers that are not netlet\'s (ipvs.excludeCIDRs) are left alone', async (t) => {
  const table = new FakeIpvsTable();
  await table.apply([{ op: 'add-service', service: svc('192.168.50.1', 80) }]);
  const sync = new IpvsTableSync(table, 4, { owned: (s) => !s.address.startsWith('192.168.50.') });
  await sync.sync(state([svc('10.0.0.1', 80), [dest('10.244.1.2')]]));
  t.same(table.text(), ['tcp/10.0.0.1/80 rr', '  -> 10.244.1.2:8080 1', 'tcp/192.168.50.1/80 rr']);
});

t.test('a refused change fails the sync by name, and the next sync dumps again', async (t) => {
  const table = new FakeIpvsTable();
  const sync = new IpvsTableSync(table, 4, owned);
  await sync.sync(state([svc('10.0.0.1', 80), [dest('10.244.1.2')]]));
  // Someone deleted our service behind our back: the next partial diff's add-dest gets ESRCH.
  table.services.clear();
  const err = await sync.sync(state([svc('10.0.0.1', 80), [dest('10.244.1.2'), dest('10.244.1.3')]]), ['tcp/10.0.0.1/80']).catch((e: unknown) => e);
  t.ok(err instanceof IpvsSyncError);
  t.match((err as Error).message, /add-dest 10\.244\.1\.3:8080 of tcp\/10\.0\.0\.1\/80: ESRCH/);
  t.equal(sync.known, undefined);
  await sync.sync(state([svc('10.0.0.1', 80), [dest('10.244.1.2'), dest('10.244.1.3')]]));
  t.same(table.text(), ['tcp/10.0.0.1/80 rr', '  -> 10.244.1.2:8080 1', '  -> 10.244.1.3:8080 1']);
});

t.test('10k services in batches of the window, not one round trip each', async (t) => {
  const table = new FakeIpvsTable();
  const sync = new IpvsTableSync(table, 4, owned);
  const many: Array<[IpvsService, IpvsDest[]]> = [];
  for (let i = 0; i < 10000; i++) many.push([svc(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 80), [dest('10.244.0.1'), dest('10.244.0.2'), dest('10.244.0.3')]]);
  const r = await sync.sync(state(...many));
  t.equal(r.changes, 40000);
  t.equal(r.roundTrips, 1 + Math.ceil(40000 / 256), 'one dump, then one datagram per window');
});
