import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorefileWatcher } from '../../../src/dns/corefile/reload.ts';

t.test('reload sees a changed Corefile once, and not an unchanged one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dnf-reload-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'Corefile');
  await writeFile(file, '. {\n errors\n}\n');
  const seen: string[] = [];
  const w = new CorefileWatcher(file, { intervalMs: 3_600_000, jitterMs: 0 }, async (text) => {
    seen.push(text);
  });
  await w.start();
  t.teardown(() => w.stop());
  t.equal(await w.check(), false, 'unchanged at start');
  await writeFile(file, '. {\n errors\n log\n}\n');
  t.equal(await w.check(), true, 'changed');
  t.equal(await w.check(), false, 'the same change is not reported twice');
  t.strictSame(seen, ['. {\n errors\n log\n}\n']);
  await rm(file);
  t.equal(await w.check(), false, 'a briefly missing file is not a change');
  await writeFile(file, '. {\n errors\n log\n}\n');
  t.equal(await w.check(), false, 'and its return with the same text neither');
});
