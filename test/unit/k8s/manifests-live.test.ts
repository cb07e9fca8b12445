import t from 'tap';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually } from '../../helpers/netns.ts';
import { harness, keys, LEVEL } from './manifests-helpers.ts';

const svc = (name: string, ip: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: live}\nspec: {clusterIP: ${ip}}\n`;

// rescanMs is a minute in these tests: whatever is picked up here came through fs.watch.
t.test('files added, edited, renamed and removed are followed live', async (t) => {
  const h = await harness(t);
  await writeFile(join(h.dir, 'a.yaml'), svc('a', '10.96.1.1'));
  await eventually(() => h.store.get('Service', 'live/a'), 20_000);

  await writeFile(join(h.dir, 'a.yaml'), svc('a', '10.96.1.2'));
  await eventually(() => h.store.get('Service', 'live/a')?.clusterIPs[0] === '10.96.1.2', 20_000);

  await mkdir(join(h.dir, 'sub'));
  await writeFile(join(h.dir, 'sub', 'b.yml'), svc('b', '10.96.1.3'));
  await eventually(() => h.store.get('Service', 'live/b'), 20_000);

  // Editors often write a temp file and rename it over the original.
  await writeFile(join(h.dir, '.a.yaml.tmp'), svc('a', '10.96.1.4'));
  await rename(join(h.dir, '.a.yaml.tmp'), join(h.dir, 'a.yaml'));
  await eventually(() => h.store.get('Service', 'live/a')?.clusterIPs[0] === '10.96.1.4', 20_000);

  await rm(join(h.dir, 'a.yaml'));
  await eventually(() => !h.store.get('Service', 'live/a'), 20_000);
  t.same(keys(h.store, 'Service'), ['live/b']);

  await rm(join(h.dir, 'sub'), { recursive: true });
  await eventually(() => h.store.count('Service') === 0, 20_000);
  t.pass('every change arrived through the watcher');
});

t.test('a burst of writes is debounced into few reloads', async (t) => {
  const h = await harness(t, { debounceMs: 150 });
  const before = h.source.scans;
  for (let i = 0; i < 20; i++) await writeFile(join(h.dir, `s${i}.yaml`), svc(`s${i}`, `10.96.2.${i + 1}`));
  await eventually(() => h.store.count('Service') === 20, 20_000);
  t.ok(h.source.scans - before <= 3, `20 files written in a burst took ${h.source.scans - before} reloads`);
});

t.test('the periodic rescan catches what the watcher missed', async (t) => {
  // watch: false stands for a filesystem where fs.watch sees nothing.
  const h = await harness(t, { rescanMs: 100, watch: false });
  await writeFile(join(h.dir, 'late.yaml'), svc('late', '10.96.3.1'));
  await eventually(() => h.store.get('Service', 'live/late'), 20_000);
  t.ok(h.source.scans >= 2);
});

t.test('invalid documents are logged with file, document and field; the rest of the file loads', async (t) => {
  const h = await harness(t);
  const text = [
    svc('good', '10.96.4.1'),
    'apiVersion: v1\nkind: Service\nmetadata: {name: badport, namespace: live}\nspec: {ports: [{port: 70000}]}\n',
    'just a string\n',
    'apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\nmetadata: {name: old, namespace: live}\naddressType: IPv4\n',
    'apiVersion: v1\nkind: Service\nmetadata: {namespace: live}\n',
    svc('good2', '10.96.4.2'),
  ].join('---\n');
  await writeFile(join(h.dir, 'mixed.yaml'), text);
  await h.source.rescan();
  t.same(keys(h.store, 'Service'), ['live/good', 'live/good2']);
  const warnings = h.lines.filter((l) => l.level === LEVEL.warn).map((l) => ({ file: l.file, document: l.document, field: l.field, msg: l.msg }));
  t.match(warnings, [
    { file: 'mixed.yaml', document: 1, field: 'spec.ports[0].port', msg: /Service live\/badport: spec\.ports\[0\]\.port: 70000 is outside 1-65535/ },
    { file: 'mixed.yaml', document: 2, msg: /not an object/ },
    { file: 'mixed.yaml', document: 3, msg: /unsupported apiVersion for EndpointSlice \(netlet reads discovery\.k8s\.io\/v1\)/ },
    { file: 'mixed.yaml', document: 4, field: 'metadata.name' },
  ]);
  t.equal(warnings.length, 4);
});

t.test('a YAML syntax error keeps the objects the file defined before', async (t) => {
  const h = await harness(t);
  const file = join(h.dir, 'two.yaml');
  await writeFile(file, svc('one', '10.96.5.1') + '---\n' + svc('two', '10.96.5.2'));
  await h.source.rescan();
  t.same(keys(h.store, 'Service'), ['live/one', 'live/two']);
  const mark = h.changes.length;

  await writeFile(file, svc('one', '10.96.5.9') + '---\napiVersion: v1\nkind: Service\nmetadata: {name: two\n  spec: [\n');
  await h.source.rescan();
  await h.source.rescan();
  t.same(keys(h.store, 'Service'), ['live/one', 'live/two'], 'both still there');
  t.same(h.store.get('Service', 'live/one')!.clusterIPs, ['10.96.5.1'], 'not even the valid half is applied');
  t.equal(h.changes.length, mark, 'no store events');
  const errors = h.lines.filter((l) => l.level === LEVEL.error);
  t.equal(errors.length, 1, 'reported once, not on every rescan');
  t.match(errors[0], { file: 'two.yaml', msg: /two\.yaml:8: invalid YAML.*keeping the objects/ });

  await writeFile(file, svc('one', '10.96.5.9'));
  await h.source.rescan();
  t.same(keys(h.store, 'Service'), ['live/one'], 'the fixed file applies, removing what it no longer defines');
  t.same(h.store.get('Service', 'live/one')!.clusterIPs, ['10.96.5.9']);
});

t.test('a JSON syntax error keeps the objects too', async (t) => {
  const h = await harness(t);
  const file = join(h.dir, 'svc.json');
  await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'j', namespace: 'live' }, spec: { clusterIP: '10.96.6.1' } }));
  await h.source.rescan();
  await writeFile(file, '{"apiVersion": "v1", "kind": "Serv');
  await h.source.rescan();
  t.same(keys(h.store, 'Service'), ['live/j']);
  t.match(h.lines.find((l) => l.level === LEVEL.error), { file: 'svc.json', msg: /invalid JSON/ });
});

t.test('the folder vanishing keeps the state and reports it', async (t) => {
  const h = await harness(t);
  await writeFile(join(h.dir, 'a.yaml'), svc('a', '10.96.7.1'));
  await h.source.rescan();
  await rm(h.dir, { recursive: true });
  await h.source.rescan();
  t.same(keys(h.store, 'Service'), ['live/a']);
  t.match(h.source.lastError, /cannot list/);
  t.ok(h.lines.some((l) => l.level === LEVEL.error && /cannot list/.test(l.msg)));
});

t.test('a rescan reads only files whose stat changed, and a same-size edit is still seen', async (t) => {
  const h = await harness(t, { watch: false });
  await writeFile(join(h.dir, 'a.yaml'), svc('a', '10.96.5.1'));
  await writeFile(join(h.dir, 'b.yaml'), svc('b', '10.96.5.2'));
  await h.source.rescan();
  t.equal(h.store.count('Service'), 2);
  const read = h.source.filesRead;
  await h.source.rescan();
  t.equal(h.source.filesRead, read, 'nothing read when nothing changed');

  await writeFile(join(h.dir, 'a.yaml'), svc('a', '10.96.5.9')); // same length
  await h.source.rescan();
  t.equal(h.source.filesRead, read + 1, 'only the edited file is read');
  t.equal(h.store.get('Service', 'live/a')?.clusterIPs[0], '10.96.5.9');
});
