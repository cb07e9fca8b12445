import t from 'tap';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../../src/base/errors.ts';
import { ManifestSource } from '../../../src/k8s/manifests.ts';
import { ALL_KINDS } from '../../../src/k8s/objects.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { harness, keys, LEVEL, memoryLogger } from './manifests-helpers.ts';

t.test('initial load: YAML documents, Lists, JSON arrays, typed lists, subfolders', async (t) => {
  const { store, lines } = await harness(t, { fixture: true });
  t.same(keys(store, 'Node'), ['n1', 'n2']);
  t.same(keys(store, 'Namespace'), ['kube-system', 'shop']);
  t.same(keys(store, 'Service'), ['kube-system/kube-dns', 'shop/web']);
  t.same(keys(store, 'EndpointSlice'), ['shop/web-1']);
  t.same(keys(store, 'Pod'), ['shop/web-0', 'shop/web-1']);
  t.ok(store.isSynced(...ALL_KINDS), 'every kind is synced after the first load');

  const web = store.get('Service', 'shop/web')!;
  t.same(web.clusterIPs, ['10.96.0.80']);
  t.match(web.meta.resourceVersion, /^m.{22}$/, 'resourceVersion synthesized from the content');
  t.match(web.meta.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'uid synthesized');
  t.equal(store.get('Service', 'kube-system/kube-dns')!.meta.uid, 'b3c1a4f0-1111-2222-3333-444455556666', 'a given uid is kept');
  t.same(store.get('Service', 'kube-system/kube-dns')!.ports.map((p) => `${p.protocol}/${p.port}`), ['UDP/53', 'TCP/53']);
  t.same(store.endpointSlicesFor('shop/web')[0].endpoints.map((e) => [e.addresses[0], e.ready, e.serving, e.terminating]), [
    ['10.244.1.10', true, true, false],
    ['10.244.2.10', false, true, true],
  ]);
  t.same(store.podsByIP('10.244.2.10').map((p) => p.meta.name), ['web-1']);

  t.same(lines.filter((l) => l.level >= LEVEL.warn), [], 'nothing to warn about');
  const skipped = lines.filter((l) => l.msg.includes('not used by netlet'));
  t.same(skipped.map((l) => [l.level, l.kind, l.file]).sort(), [
    [LEVEL.debug, 'ConfigMap', 'config.yml'],
    [LEVEL.debug, 'Deployment', 'apps/web.yaml'],
  ]);
});

t.test('uids stay the same across edits and reloads', async (t) => {
  const h = await harness(t);
  await writeFile(join(h.dir, 's.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {clusterIP: 10.96.0.1}\n');
  await h.source.rescan();
  const first = h.store.get('Service', 'default/a')!;
  await writeFile(join(h.dir, 's.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {clusterIP: 10.96.0.2}\n');
  await h.source.rescan();
  const second = h.store.get('Service', 'default/a')!;
  t.equal(second.meta.uid, first.meta.uid);
  t.not(second.meta.resourceVersion, first.meta.resourceVersion);
});

t.test('a reload of unchanged files emits no store events', async (t) => {
  const h = await harness(t, { fixture: true });
  const before = h.changes.length;
  await h.source.rescan();
  // Rewriting a file with the same objects (even reformatted) changes nothing either.
  const web = join(h.dir, 'apps/web.yaml');
  const { readFile } = await import('node:fs/promises');
  await writeFile(web, (await readFile(web, 'utf8')) + '\n# a comment\n');
  await h.source.rescan();
  t.equal(h.changes.length, before);
});

t.test('an edited object is the only one updated; a resourceVersion copied into the file does not hide edits', async (t) => {
  const h = await harness(t);
  const doc = (ip: string) =>
    `apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x, resourceVersion: "100"}\nspec: {clusterIP: ${ip}}\n---\n` +
    'apiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: x}\nspec: {clusterIP: 10.96.0.9}\n';
  await writeFile(join(h.dir, 's.yaml'), doc('10.96.0.1'));
  await h.source.rescan();
  const mark = h.changes.length;
  await writeFile(join(h.dir, 's.yaml'), doc('10.96.0.2'));
  await h.source.rescan();
  const changes = h.changes.slice(mark);
  t.same(changes.map((c) => [c.kind, c.key]), [['Service', 'x/a']]);
  t.same(h.store.get('Service', 'x/a')!.clusterIPs, ['10.96.0.2']);
});

t.test('an object defined twice: the last file wins, with one warning naming both files', async (t) => {
  const h = await harness(t);
  const svc = (ip: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: dup}\nspec: {clusterIP: ${ip}}\n`;
  await writeFile(join(h.dir, 'a.yaml'), svc('10.96.0.1'));
  await writeFile(join(h.dir, 'b.yaml'), svc('10.96.0.2'));
  await h.source.rescan();
  await h.source.rescan();
  t.same(h.store.get('Service', 'default/dup')!.clusterIPs, ['10.96.0.2']);
  const warnings = h.lines.filter((l) => l.level === LEVEL.warn);
  t.equal(warnings.length, 1, 'warned once, not on every rescan');
  t.match(warnings[0].msg, /a\.yaml.*b\.yaml.*last one wins/);
});

t.test('hidden entries (editor swap files, ConfigMap ..data folders) are not read', async (t) => {
  const h = await harness(t);
  await mkdir(join(h.dir, '..2024_01_01'));
  const svc = 'apiVersion: v1\nkind: Service\nmetadata: {name: cm}\nspec: {clusterIP: 10.96.0.3}\n';
  await writeFile(join(h.dir, '..2024_01_01', 'svc.yaml'), svc);
  await symlink('..2024_01_01', join(h.dir, '..data'));
  await symlink('..data/svc.yaml', join(h.dir, 'svc.yaml'));
  await writeFile(join(h.dir, '.svc.yaml.swp'), 'garbage: [');
  await writeFile(join(h.dir, 'notes.txt'), 'not a manifest');
  await h.source.rescan();
  t.same(keys(h.store, 'Service'), ['default/cm']);
  t.same(h.lines.filter((l) => l.level >= LEVEL.warn), [], 'no duplicate or syntax warnings');
});

t.test('objects the source did not put in the store are left alone', async (t) => {
  const h = await harness(t, { start: false });
  h.store.upsert({ kind: 'Namespace', meta: { namespace: '', name: 'from-elsewhere', uid: 'u', resourceVersion: '1' } });
  await writeFile(join(h.dir, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: mine}\n');
  await h.source.start();
  await writeFile(join(h.dir, 'ns.yaml'), '');
  await h.source.rescan();
  t.same(keys(h.store, 'Namespace'), ['from-elsewhere']);
});

t.test('a missing folder is a config error naming the key', async (t) => {
  const { log } = memoryLogger();
  const source = new ManifestSource({ dir: '/nonexistent/netlet-mf', store: new ObjectStore(), log });
  const err = await source.start().then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof ConfigError, 'a ConfigError');
  t.equal((err as ConfigError).key, 'manifests');
  t.match((err as ConfigError).message, /nonexistent\/netlet-mf/);
});
