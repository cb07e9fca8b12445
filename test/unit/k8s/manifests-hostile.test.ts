// Issue 13 (points 4, 5): hostile files in the manifest folder. An alias
// bomb crashed the agent and `netlet dns` at every start while the file was
// there; one 50 MB file took the agent from 85 MB to 1.97 GB. Each such file
// is now reported by name and skipped, and the other files are served.

import t from 'tap';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { harness, keys, LEVEL } from './manifests-helpers.ts';
import type { Harness } from './manifests-helpers.ts';

const GOOD = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {clusterIP: 10.96.0.10, ports: [{port: 80}]}
`;

/** "Billion laughs": ten levels of nine aliases each, 9^10 strings if expanded. */
function aliasBomb(): string {
  const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: lol}', 'data:', '  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= 10; i++) lines.push(`  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]`);
  return lines.join('\n') + '\n';
}

/** The error lines that name `file`. */
const errorsAbout = (h: Harness, file: string) => h.lines.filter((l) => l.level >= LEVEL.error && l.file === file);

async function startWith(t: Parameters<typeof harness>[0], files: Record<string, string>, opts: Parameters<typeof harness>[1] = {}): Promise<Harness> {
  const h = await harness(t, { ...opts, start: false });
  await writeFile(join(h.dir, 'good.yaml'), GOOD);
  for (const [name, text] of Object.entries(files)) await writeFile(join(h.dir, name), text);
  await h.source.start();
  return h;
}

t.test('an alias bomb is reported by name and skipped; the other files are served', async (t) => {
  const h = await startWith(t, { 'bomb.yaml': aliasBomb() });
  t.same(keys(h.store, 'Service'), ['shop/web']);
  t.equal(errorsAbout(h, 'bomb.yaml').length, 1, 'one error names the file');
  t.match(errorsAbout(h, 'bomb.yaml')[0]?.msg, /alias/i);
  t.equal(h.source.brokenFiles, 1);
  await h.source.rescan();
  t.equal(errorsAbout(h, 'bomb.yaml').length, 1, 'an unchanged file is not reported again');
});

t.test('an alias inside the node it names (a circular document) is refused by name', async (t) => {
  const h = await startWith(t, {
    'loop.yaml': 'apiVersion: v1\nkind: Service\nmetadata: &m {name: loop, namespace: shop, labels: {self: *m}}\nspec: {ports: [{port: 80}]}\n',
    'loop2.yaml': '&a [*a]\n',
  });
  t.same(keys(h.store, 'Service'), ['shop/web']);
  t.equal(errorsAbout(h, 'loop.yaml').length, 1);
  t.equal(errorsAbout(h, 'loop2.yaml').length, 1);
});

t.test('nesting too deep for the stack is refused by name, in YAML and in JSON', async (t) => {
  const depth = 50_000;
  const h = await startWith(t, {
    'deep.json': '['.repeat(depth) + ']'.repeat(depth),
    'deep.yaml': 'a: ' + '['.repeat(depth) + ']'.repeat(depth) + '\n',
  }, { maxYamlTokens: 10_000_000 });
  t.same(keys(h.store, 'Service'), ['shop/web']);
  t.equal(errorsAbout(h, 'deep.json').length + h.lines.filter((l) => l.file === 'deep.json' && l.level >= LEVEL.warn).length > 0, true, 'deep.json is reported');
  t.ok(h.lines.some((l) => l.file === 'deep.yaml' && l.level >= LEVEL.warn), 'deep.yaml is reported');
});

t.test('a 50 MB file is refused unread, by name, with the limit in the message', async (t) => {
  const h = await harness(t, { start: false });
  await writeFile(join(h.dir, 'good.yaml'), GOOD);
  // Sparse: 50 MB of size, no data written, so the test stays fast.
  const fh = await open(join(h.dir, 'huge.yaml'), 'w');
  await fh.truncate(50 * 1024 * 1024);
  await fh.close();
  const rss = process.memoryUsage().rss;
  await h.source.start();
  t.ok(process.memoryUsage().rss - rss < 30 * 1024 * 1024, 'not read into memory');
  t.same(keys(h.store, 'Service'), ['shop/web']);
  const [err] = errorsAbout(h, 'huge.yaml');
  t.match(err?.msg, /huge\.yaml: 52428800 bytes is more than the 4194304/);
  t.equal(h.source.brokenFiles, 1);
  await h.source.rescan();
  t.equal(errorsAbout(h, 'huge.yaml').length, 1, 'reported once while unchanged');
});

t.test('a file over a lowered limit keeps the objects it defined before; back under it, it is read again', async (t) => {
  const h = await harness(t, { start: false, maxFileBytes: 1024 });
  const file = join(h.dir, 'svc.yaml');
  await writeFile(file, GOOD);
  await h.source.start();
  t.same(keys(h.store, 'Service'), ['shop/web']);
  await writeFile(file, GOOD + '# padding\n'.repeat(200));
  await h.source.rescan();
  t.same(keys(h.store, 'Service'), ['shop/web'], 'kept');
  t.equal(errorsAbout(h, 'svc.yaml').length, 1);
  await writeFile(file, GOOD.replace('web', 'api'));
  await h.source.rescan();
  t.same(keys(h.store, 'Service'), ['shop/api']);
  t.equal(h.source.brokenFiles, 0);
});

t.test('a YAML file of too many tokens is refused before it is parsed', async (t) => {
  const h = await startWith(t, { 'many.yaml': '---\n'.repeat(5000) }, { maxYamlTokens: 1000 });
  t.same(keys(h.store, 'Service'), ['shop/web']);
  t.match(errorsAbout(h, 'many.yaml')[0]?.msg, /more than 1000 YAML tokens/);
});
