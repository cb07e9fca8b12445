import t from 'tap';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { harness, keys } from './manifests-helpers.ts';

// Pods kept lean by the manifest source (`netlet dns`): no content hash, no
// derived uid; an edit still changes only the pods it touched.

const pod = (name: string, ip: string, phase = 'Running') =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: shop}\nspec: {nodeName: n1, hostname: ${name}}\nstatus: {phase: ${phase}, podIP: ${ip}}\n`;
const svc = (name: string, ip: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\nspec: {clusterIP: ${ip}}\n`;

t.test('lean pods hold names and IPs only; other kinds stay full', async (t) => {
  const h = await harness(t, { start: false, lean: ['Pod'] });
  await writeFile(join(h.dir, 'a.yaml'), [pod('a', '10.64.0.1'), svc('web', '10.96.0.10')].join('---\n'));
  await h.source.start();
  t.same(h.store.get('Pod', 'shop/a'), {
    kind: 'Pod', meta: { namespace: 'shop', name: 'a', uid: '', resourceVersion: '' },
    nodeName: '', podIPs: ['10.64.0.1'], hostNetwork: false, phase: '', hostname: '', subdomain: '',
  });
  const web = h.store.get('Service', 'shop/web')!;
  t.match(web.meta.resourceVersion, /^m.{22}$/, 'a full object keeps its content hash');
  t.match(web.meta.uid, /^[0-9a-f-]{36}$/, 'and its derived uid');
});

t.test('an edit emits changes only for the pods whose kept fields changed', async (t) => {
  const h = await harness(t, { start: false, lean: ['Pod'] });
  await writeFile(join(h.dir, 'a.yaml'), [pod('a', '10.64.0.1'), pod('b', '10.64.0.2'), pod('c', '10.64.0.3')].join('---\n'));
  await h.source.start();
  const b0 = h.store.get('Pod', 'shop/b');
  h.changes.length = 0;

  // b's phase is not kept: no change for b. a's IP is: one update. c is gone, d is new.
  await writeFile(join(h.dir, 'a.yaml'), [pod('a', '10.64.0.11'), pod('b', '10.64.0.2', 'Succeeded'), pod('d', '10.64.0.4')].join('---\n'));
  await h.source.rescan();
  t.same(h.changes.map((c) => `${c.key} ${c.previous ? (c.current ? 'update' : 'delete') : 'add'}`).sort(), ['shop/a update', 'shop/c delete', 'shop/d add']);
  t.same(h.store.get('Pod', 'shop/b'), b0, 'the unchanged pod reads back the same');
  t.same(h.store.get('Pod', 'shop/a')?.podIPs, ['10.64.0.11']);
  t.same(h.store.podsByIP('10.64.0.1'), []);
  t.same(h.store.podsByIP('10.64.0.11').map((p) => p.meta.name), ['a']);

  // A rescan of an unchanged folder emits nothing.
  h.changes.length = 0;
  await writeFile(join(h.dir, 'a.yaml'), [pod('a', '10.64.0.11'), pod('b', '10.64.0.2'), pod('d', '10.64.0.4')].join('---\n'));
  await h.source.rescan();
  t.same(h.changes, [], 'a rewrite with the same kept fields emits nothing');

  await rm(join(h.dir, 'a.yaml'));
  await h.source.rescan();
  t.same(keys(h.store, 'Pod'), []);
});

t.test('a pod moved to another file is kept; a duplicate is not removed with its first file', async (t) => {
  const h = await harness(t, { start: false, lean: ['Pod'] });
  await writeFile(join(h.dir, 'a.yaml'), [pod('a', '10.64.0.1'), pod('b', '10.64.0.2')].join('---\n'));
  await writeFile(join(h.dir, 'b.yaml'), pod('b', '10.64.0.2'));
  await h.source.start();
  t.same(keys(h.store, 'Pod'), ['shop/a', 'shop/b']);
  await rm(join(h.dir, 'a.yaml'));
  await h.source.rescan();
  t.same(keys(h.store, 'Pod'), ['shop/b'], 'b is still defined by b.yaml');
  await writeFile(join(h.dir, 'c.yaml'), pod('a', '10.64.0.1'));
  await rm(join(h.dir, 'b.yaml'));
  await h.source.rescan();
  t.same(keys(h.store, 'Pod'), ['shop/a']);
});

t.test('pods defined twice with different IPs: the last file wins, and the other takes over when it goes (files keep applied pods packed)', async (t) => {
  const h = await harness(t, { start: false, lean: ['Pod'] });
  await writeFile(join(h.dir, 'a.yaml'), pod('x', '10.64.0.1'));
  await h.source.start();
  // a.yaml's pod is packed by now; b.yaml (later in order) defines it again.
  await writeFile(join(h.dir, 'b.yaml'), pod('x', '10.64.0.2'));
  await h.source.rescan();
  t.same(h.store.get('Pod', 'shop/x')?.podIPs, ['10.64.0.2'], 'the last definition wins');
  await writeFile(join(h.dir, 'b.yaml'), pod('x', '10.64.0.3'));
  await h.source.rescan();
  t.same(h.store.get('Pod', 'shop/x')?.podIPs, ['10.64.0.3'], 'an edit of the winner is applied');
  await rm(join(h.dir, 'b.yaml'));
  await h.source.rescan();
  t.same(h.store.get('Pod', 'shop/x')?.podIPs, ['10.64.0.1'], 'the packed definition left in a.yaml comes back with its own IP');
  t.same(h.store.podsByIP('10.64.0.3'), []);
  h.changes.length = 0;
  await writeFile(join(h.dir, 'c.yaml'), svc('web', '10.96.0.10'));
  await h.source.rescan();
  t.same(h.changes.map((c) => c.key), ['shop/web'], 'another file’s edit re-applies the packed pod as no change');
});

t.test('a pod another file starts to define in the same rescan as an edit of its own file keeps its own IPs for later', async (t) => {
  const h = await harness(t, { start: false, lean: ['Pod'] });
  await writeFile(join(h.dir, 'a.yaml'), [pod('x', '10.64.0.1'), pod('y', '10.64.0.5')].join('---\n'));
  await h.source.start();
  // One rescan: a.yaml changes y (x is kept as it was) and b.yaml defines x again.
  await writeFile(join(h.dir, 'a.yaml'), [pod('x', '10.64.0.1'), pod('y', '10.64.0.6')].join('---\n'));
  await writeFile(join(h.dir, 'b.yaml'), pod('x', '10.64.0.2'));
  await h.source.rescan();
  t.same(h.store.get('Pod', 'shop/x')?.podIPs, ['10.64.0.2'], 'the last definition wins');
  t.same(h.store.get('Pod', 'shop/y')?.podIPs, ['10.64.0.6']);
  await rm(join(h.dir, 'b.yaml'));
  await h.source.rescan();
  t.same(h.store.get('Pod', 'shop/x')?.podIPs, ['10.64.0.1'], 'a.yaml’s own definition comes back');
  t.same(h.store.podsByIP('10.64.0.2'), []);
  h.changes.length = 0;
  await h.source.rescan();
  t.same(h.changes, [], 'and a rescan of the unchanged folder emits nothing');
});
