import t from 'tap';
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/base/log.ts';
import { ALL_KINDS } from '../../../src/k8s/objects.ts';
import type { AnyObject } from '../../../src/k8s/objects.ts';
import { MAX_SNAPSHOT_BYTES, readSnapshot, SnapshotError, SnapshotWriter, writeSnapshot } from '../../../src/k8s/snapshot.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { eventually } from '../../helpers/netns.ts';
import { endpoint, endpointSlice, node, pod, service } from '../../helpers/objects.ts';

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-mf-snap-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const sample = (): AnyObject[] => [
  service('shop', 'web'),
  endpointSlice('shop', 'web', 'web-1', [endpoint('10.1.0.1'), endpoint('10.1.0.2', { ready: false, terminating: true })]),
  node('n1', { podCIDRs: ['10.244.1.0/24'], labels: { a: 'b' } }),
  pod('shop', 'web-0', '10.1.0.1'),
  { kind: 'Namespace', meta: { namespace: '', name: 'shop', uid: 'u', resourceVersion: '1' } },
  { kind: 'IPAMBlock', meta: { namespace: '', name: '10-244-0-0-26', uid: 'b', resourceVersion: '2' }, cidr: '10.244.0.0/26', node: 'n1', pool: 'default' },
];

function syncedStore(objects: AnyObject[] = []): ObjectStore {
  const store = new ObjectStore();
  for (const o of objects) store.upsert(o);
  for (const k of ALL_KINDS) store.markSynced(k);
  return store;
}

t.test('what the writer saves, readSnapshot returns', async (t) => {
  const file = join(await tempDir(t), 'state.json');
  const objects = sample();
  const writer = new SnapshotWriter({ file, store: syncedStore(objects), log: silentLogger, debounceMs: 10_000 });
  await writer.start();
  const before = Date.now();
  await writer.flush();
  const snap = await readSnapshot(file);
  t.same(snap.objects.map((o) => `${o.kind}/${o.meta.name}`).sort(), objects.map((o) => `${o.kind}/${o.meta.name}`).sort());
  t.same(snap.objects.find((o) => o.kind === 'EndpointSlice'), objects[1]);
  t.ok(snap.savedAt.getTime() >= before - 1000 && snap.savedAt.getTime() <= Date.now());
  t.equal(writer.writes, 1);
  await writer.flush();
  t.equal(writer.writes, 1, 'nothing changed: no rewrite');
  await writer.stop();
  t.same((await readdir(join(file, '..'))).sort(), ['state.json'], 'no temp files left');
});

t.test('changes are debounced into one write', async (t) => {
  const file = join(await tempDir(t), 'state.json');
  const store = syncedStore();
  const writer = new SnapshotWriter({ file, store, log: silentLogger, debounceMs: 100 });
  await writer.start();
  await eventually(() => writer.writes === 1, 5000); // the (empty) synced store
  for (let i = 0; i < 50; i++) store.upsert(service('ns', `s${i}`));
  t.equal(writer.writes, 1, 'not written at once');
  await eventually(() => writer.writes === 2, 5000);
  await new Promise((r) => setTimeout(r, 250));
  t.equal(writer.writes, 2, '50 changes, one write');
  t.equal((await readSnapshot(file)).objects.length, 50);
  store.remove('Service', 'ns/s0');
  await writer.stop(); // stop flushes what is pending
  t.equal((await readSnapshot(file)).objects.length, 49);
});

t.test('nothing is written until the store is synced', async (t) => {
  const file = join(await tempDir(t), 'state.json');
  await writeSnapshot(file, sample());
  const store = new ObjectStore();
  const writer = new SnapshotWriter({ file, store, log: silentLogger, debounceMs: 20 });
  await writer.start();
  store.upsert(service('ns', 'partial'));
  await writer.flush();
  await new Promise((r) => setTimeout(r, 60));
  t.equal(writer.writes, 0);
  t.equal((await readSnapshot(file)).objects.length, 6, 'the complete old snapshot is kept');
  for (const k of ALL_KINDS) store.markSynced(k);
  await eventually(() => writer.writes === 1, 5000);
  t.same((await readSnapshot(file)).objects.map((o) => o.meta.name), ['partial']);
  await writer.stop();
});

t.test('a failed write keeps the old snapshot and reports the error', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'state.json');
  await mkdir(file); // rename over a folder fails
  const writer = new SnapshotWriter({ file, store: syncedStore(sample()), log: silentLogger, debounceMs: 10_000 });
  await writer.start();
  await writer.flush();
  t.equal(writer.writes, 0);
  t.match(writer.lastError?.message ?? '', /EISDIR|directory/i);
  t.same(await readdir(dir), ['state.json'], 'the temp file was removed');
  await writer.stop();
});

t.test('a corrupt snapshot is refused with an error naming the problem', async (t) => {
  const dir = await tempDir(t);
  const good = { format: 'netlet-snapshot', version: 1, savedAt: '2024-05-01T00:00:00.000Z', count: 1, objects: [service('a', 'b')] };
  const rows: { name: string; content: string; reason: RegExp }[] = [
    { name: 'empty file', content: '', reason: /not valid JSON/ },
    { name: 'truncated', content: JSON.stringify(good).slice(0, 80), reason: /not valid JSON.*truncated/ },
    { name: 'a list', content: '[]', reason: /not a snapshot object/ },
    { name: 'another format', content: JSON.stringify({ ...good, format: 'other' }), reason: /not a netlet snapshot/ },
    { name: 'a newer version', content: JSON.stringify({ ...good, version: 2 }), reason: /format version 2 is not 1/ },
    { name: 'no version', content: JSON.stringify({ ...good, version: undefined }), reason: /format version undefined/ },
    { name: 'bad savedAt', content: JSON.stringify({ ...good, savedAt: 'yesterday' }), reason: /savedAt/ },
    { name: 'objects not a list', content: JSON.stringify({ ...good, objects: {} }), reason: /objects is not a list/ },
    { name: 'count mismatch', content: JSON.stringify({ ...good, count: 2 }), reason: /holds 1 objects, its header says 2/ },
    { name: 'unknown kind', content: JSON.stringify({ ...good, objects: [{ ...good.objects[0], kind: 'Deployment' }] }), reason: /objects\[0\] has unknown kind "Deployment"/ },
    { name: 'no meta', content: JSON.stringify({ ...good, objects: [{ kind: 'Pod' }] }), reason: /objects\[0\] \(Pod\) has no meta/ },
    { name: 'meta name a number', content: JSON.stringify({ ...good, objects: [{ ...good.objects[0], meta: { ...good.objects[0].meta, name: 5 } }] }), reason: /meta\.name is number/ },
    { name: 'a field of the wrong type', content: JSON.stringify({ ...good, objects: [{ ...good.objects[0], clusterIPs: '10.0.0.1' }] }), reason: /objects\[0\] \(Service "b"\) clusterIPs is string, not array/ },
  ];
  for (const row of rows) {
    const file = join(dir, `${row.name.replaceAll(' ', '-')}.json`);
    await writeFile(file, row.content);
    const err = await readSnapshot(file).then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof SnapshotError, `${row.name}: a SnapshotError`);
    t.equal((err as SnapshotError).code, 'ERR_SNAPSHOT_CORRUPT', row.name);
    t.match((err as Error).message, row.reason, row.name);
    t.match((err as Error).message, file, `${row.name}: names the file`);
  }
  await writeFile(join(dir, 'good.json'), JSON.stringify(good));
  t.equal((await readSnapshot(join(dir, 'good.json'))).objects.length, 1, 'the same document unbroken reads');
  const missing = await readSnapshot(join(dir, 'none.json')).then(() => undefined, (e: unknown) => e);
  t.equal((missing as SnapshotError).code, 'ERR_SNAPSHOT_MISSING');
});

t.test('a writer killed mid-write leaves the previous snapshot intact', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'state.json');
  const child = new URL('./snapshot-child.ts', import.meta.url).pathname;
  const COUNT = 20_000; // ~10 MB: a write takes long enough to be interrupted
  let midWrite = 0;
  for (let attempt = 0; attempt < 10 && midWrite < 3; attempt++) {
    const proc = spawn(process.execPath, [child, file, String(COUNT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let gens = 0;
    proc.stdout.on('data', (b: Buffer) => {
      for (const m of b.toString().matchAll(/written (\d+)/g)) gens = Number(m[1]);
    });
    await eventually(() => gens >= 1, 90_000);
    // Kill it the moment its next temp file appears: it is then writing or fsyncing.
    const watcher = watch(dir, (_event, name) => {
      if (name?.includes('.tmp-')) proc.kill('SIGKILL');
    });
    const fallback = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    await new Promise((r) => proc.once('exit', r));
    clearTimeout(fallback);
    watcher.close();
    const temps = (await readdir(dir)).filter((n) => n.includes('.tmp-'));
    if (temps.length > 0) midWrite++;
    const snap = await readSnapshot(file); // throws if the file were torn
    t.equal(snap.objects.length, COUNT + 1, `attempt ${attempt}: complete`);
    const gen = Number(snap.objects.find((o) => o.meta.name === 'generation')!.meta.resourceVersion);
    t.ok(gen >= gens, `attempt ${attempt}: generation ${gen}, the last one reported written or later`);
  }
  t.ok(midWrite >= 3, `the child was killed mid-write ${midWrite} times (its temp file was left behind)`);

  // A new writer removes the dead writer's temp files and writes normally.
  const writer = new SnapshotWriter({ file, store: syncedStore(sample()), log: silentLogger, debounceMs: 10_000 });
  await writer.start();
  await writer.flush();
  await writer.stop();
  t.same(await readdir(dir), ['state.json']);
  t.equal((await readSnapshot(file)).objects.length, 6);
  t.ok((await readFile(file, 'utf8')).startsWith('{"format":"netlet-snapshot"'));
});

// Issue 13 (points 2, 3): a hand-edited snapshot is checked like any other
// source. Each row breaks one field of one object: that object is left out
// with an error naming it and the field, and the good ones are read.
t.test('an invalid object in a snapshot is left out alone, with an error naming it', async (t) => {
  const dir = await tempDir(t);
  const INJECTION = 'y\nCOMMIT\n*filter\n-A INPUT -s 6.6.6.7/32 -j ACCEPT\nCOMMIT\n*nat\n#';
  const good = service('shop', 'web');
  const svc = good as Extract<AnyObject, { kind: 'Service' }>;
  const slice = endpointSlice('shop', 'web', 'web-1', [endpoint('10.1.0.1')]);
  const rows: { name: string; bad: AnyObject; field: string }[] = [
    { name: 'service name with a newline (rule injection)', bad: { ...svc, meta: { ...svc.meta, name: INJECTION } }, field: 'metadata.name' },
    { name: 'namespace with a newline', bad: { ...svc, meta: { ...svc.meta, namespace: INJECTION } }, field: 'metadata.namespace' },
    { name: 'port name with a quote', bad: { ...svc, ports: [{ ...svc.ports[0], name: 'a"b' }] }, field: 'ports[0].name' },
    { name: 'port 0', bad: { ...svc, ports: [{ ...svc.ports[0], port: 0 }] }, field: 'ports[0].port' },
    { name: 'protocol icmp', bad: { ...svc, ports: [{ ...svc.ports[0], protocol: 'ICMP' as 'TCP' }] }, field: 'ports[0].protocol' },
    { name: 'clusterIP with a zone', bad: { ...svc, clusterIPs: ['fe80::5%eth0'] }, field: 'clusterIPs[0]' },
    { name: 'endpoint fe80::5%eth0', bad: { ...slice, addressType: 'IPv6', endpoints: [{ ...slice.endpoints[0], addresses: ['fe80::5%eth0'] }] } as AnyObject, field: 'endpoints[0].addresses[0]' },
    { name: 'slice service name with a space', bad: { ...slice, serviceName: 'a b' }, field: 'serviceName' },
  ];
  for (const row of rows) {
    const file = join(dir, `${row.name.replaceAll(/\W/g, '-')}.json`);
    const objects = [good, row.bad, node('n1')];
    await writeFile(file, JSON.stringify({ format: 'netlet-snapshot', version: 1, savedAt: '2024-05-01T00:00:00.000Z', count: 3, objects }));
    const snap = await readSnapshot(file);
    t.same(snap.objects.map((o) => `${o.kind} ${o.meta.name}`), ['Service web', 'Node n1'], `${row.name}: the good objects are read`);
    t.equal(snap.rejected.length, 1, `${row.name}: one rejected`);
    t.equal(snap.rejected[0]?.field, row.field, `${row.name}: names the field`);
    t.equal(snap.rejected[0]?.kind, row.bad.kind, `${row.name}: names the kind`);
  }
});

// Issue 13: the snapshot is size-bounded like a manifest file. A file past
// the bound is refused by its size, before a byte is read (a sparse file of
// the default bound + 1 costs no disk and would cost the reader its whole
// size, then more to parse); a state past it is not written, and the
// previous snapshot stays whole.
t.test('a snapshot past the size bound is neither read nor written', async (t) => {
  const dir = await tempDir(t);
  const huge = join(dir, 'huge.json');
  await writeFile(huge, '');
  await truncate(huge, MAX_SNAPSHOT_BYTES + 1);
  const rssBefore = process.memoryUsage().rss;
  const err = await readSnapshot(huge).then(() => undefined, (e: unknown) => e);
  t.equal((err as SnapshotError)?.code, 'ERR_SNAPSHOT_TOO_LARGE', 'refused as too large');
  t.match((err as Error).message, `${MAX_SNAPSHOT_BYTES + 1} bytes is more than the ${MAX_SNAPSHOT_BYTES}`, 'says its size and the bound');
  t.match((err as Error).message, huge, 'names the file');
  t.ok(process.memoryUsage().rss - rssBefore < 16 * 1024 * 1024, 'not read into memory');

  const file = join(dir, 'state.json');
  await writeSnapshot(file, sample());
  const before = await readFile(file, 'utf8');
  const many: AnyObject[] = [];
  for (let i = 0; i < 200; i++) many.push(service('shop', `svc-${i}`));
  const tooLarge = await writeSnapshot(file, many, new Date(), 20_000).then(() => undefined, (e: unknown) => e);
  t.equal((tooLarge as SnapshotError)?.code, 'ERR_SNAPSHOT_TOO_LARGE', 'writeSnapshot refuses a state past its bound');
  t.match((tooLarge as Error).message, /state of 200 objects takes more than the 20000 bytes/, 'says how many objects and the bound');

  const writer = new SnapshotWriter({ file, store: syncedStore(many), log: silentLogger, debounceMs: 10_000, maxBytes: 20_000 });
  await writer.start();
  await writer.flush();
  await writer.stop();
  t.equal((writer.lastError as SnapshotError)?.code, 'ERR_SNAPSHOT_TOO_LARGE', 'the writer reports it');
  t.equal(writer.writes, 0, 'nothing written');
  t.equal(await readFile(file, 'utf8'), before, 'the previous snapshot is intact');
  t.same(await readdir(dir), ['huge.json', 'state.json'], 'no temp file left');
  const small = new SnapshotWriter({ file, store: syncedStore(sample()), log: silentLogger, debounceMs: 10_000, maxBytes: 20_000 });
  await small.start();
  await small.flush();
  await small.stop();
  t.equal(small.writes, 1, 'a state within the bound is written');
});
