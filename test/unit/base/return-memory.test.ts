import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('../../fixtures/malloc-trim-child.ts', import.meta.url));

t.test('malloc_trim gives back freed malloc memory that a GC leaves resident', async (t) => {
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', child], { encoding: 'utf8' })) as {
    beforeTrim: number;
    afterTrim: number;
    trimmed: boolean;
    afterCollect: number;
  };
  t.ok(out.trimmed, 'the addon reports memory released');
  t.ok(out.beforeTrim - out.afterTrim > 50, `RSS ${out.beforeTrim.toFixed(0)} → ${out.afterTrim.toFixed(0)} MB after malloc_trim`);
  t.ok(out.afterCollect <= out.afterTrim + 5, `collectAndReturnMemory runs (RSS then ${out.afterCollect.toFixed(0)} MB)`);
});
