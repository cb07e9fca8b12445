// The user docs say what the code does: every proxy mode the schema accepts
// but no backend runs is in the README's "Not supported yet" with its key,
// every runnable mode and route mode is in "What is supported", and the
// Corefile plugins docs/corefile.md lists are exactly those the parser reads.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../../src/agent/config.ts';
import { runnableModes } from '../../../src/agent/proxy-backends.ts';
import type { Field, Section } from '../../../src/base/config-schema.ts';
import { PLUGINS } from '../../../src/dns/corefile/plugins.ts';

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

/** The text of a `## heading` section of a Markdown file, up to the next `## `. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no section "${heading}"`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

const field = (path: string[]): Field => path.reduce<Field | Section>((s, k) => (s as Section).fields[k], configSchema) as Field;

const readme = read('README.md');
const notSupported = section(readme, 'Not supported yet');
const supported = section(readme, 'What is supported');

t.test('each proxy mode the schema accepts is either run (and listed as supported) or refused (and listed as not supported)', async (t) => {
  const accepted = field(['proxy', 'mode']).oneOf!.filter((m) => m !== '' && m !== 'none');
  const runnable = runnableModes();
  for (const mode of accepted) {
    if (runnable.includes(mode)) t.match(supported, `proxy.mode: ${mode}`, `${mode}: in "What is supported"`);
    else t.match(notSupported, `proxy.mode: ${mode}`, `${mode}: in "Not supported yet"`);
  }
  t.ok(runnable.length > 0);
});

t.test('each route mode the schema accepts is listed as supported', async (t) => {
  for (const mode of field(['routes', 'mode']).oneOf!) t.match(supported, `routes.mode: ${mode}`, mode);
});

t.test("docs/corefile.md's plugin table is the parser's plugin list", async (t) => {
  const table = section(read('docs/corefile.md'), 'Plugins');
  const listed = [...table.matchAll(/^\| `([a-z]+)` \|/gm)].map((m) => m[1]).sort();
  t.same(listed, Object.keys(PLUGINS).sort());
});
