// `import` and snippets, as Caddyfile (and so CoreDNS) has them: files and
// globs relative to the importing file, inside and outside server blocks,
// a glob matching nothing imports nothing, snippets with arguments.
import t from 'tap';
import type { Test } from 'tap';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../../src/base/errors.ts';
import { allBlocks } from '../../../src/dns/corefile/config.ts';
import type { DnsConfig } from '../../../src/dns/corefile/config.ts';
import { parseCorefile } from '../../../src/dns/corefile/parse.ts';
import { filesIn } from './corefile-server.ts';

async function parseIn(t: Test, files: Record<string, string>): Promise<DnsConfig[]> {
  const dir = await filesIn(t, files);
  const path = join(dir, 'Corefile');
  return allBlocks(parseCorefile(await readFile(path, 'utf8'), path));
}

const rows: Array<{ name: string; files: Record<string, string>; want: (b: DnsConfig[]) => unknown; expect: unknown }> = [
  {
    name: "k3s: custom server blocks and overrides from globs that match nothing",
    files: { Corefile: '.:53 {\n errors\n import custom/*.override\n}\nimport custom/*.server\n' },
    want: (b) => [b.length, b[0].errors],
    expect: [1, true],
  },
  {
    name: 'a glob inside a block pastes directives, sorted by file name',
    files: { Corefile: '. {\n import custom/*.override\n}\n', 'custom/b.override': 'log\n', 'custom/a.override': 'forward . 10.0.0.1\n' },
    want: (b) => [b[0].log, b[0].upstreams],
    expect: [true, ['10.0.0.1']],
  },
  {
    name: 'a glob outside blocks pastes server blocks',
    files: { Corefile: '. {\n errors\n}\nimport custom/*.server\n', 'custom/consul.server': 'consul.local:53 {\n forward . 10.150.0.1\n}\n' },
    want: (b) => b.map((c) => [c.serverZones, c.upstreams]),
    expect: [[['.'], []], [['consul.local.'], ['10.150.0.1']]],
  },
  {
    name: 'an absolute-free plain path, relative to the importing file',
    files: { Corefile: '. {\n import conf/extra.conf\n}\n', 'conf/extra.conf': 'import more.conf\n', 'conf/more.conf': 'log\n' },
    want: (b) => b[0].log,
    expect: true,
  },
  {
    name: 'a snippet',
    files: { Corefile: '(common) {\n errors\n log\n}\n. {\n import common\n forward . 10.0.0.1\n}\nexample.org {\n import common\n}\n' },
    want: (b) => b.map((c) => [c.errors, c.log]),
    expect: [[true, true], [true, true]],
  },
  {
    name: 'a snippet with arguments',
    files: { Corefile: '(stub) {\n forward . {args[0]} {\n  max_fails {args.1}\n }\n}\nconsul.local {\n import stub 10.150.0.1 5\n}\n' },
    want: (b) => [b[0].upstreams, b[0].forward?.maxFails],
    expect: [['10.150.0.1'], 5],
  },
];

t.test('imports and snippets', async (t) => {
  for (const r of rows) t.strictSame(r.want(await parseIn(t, r.files)), r.expect, r.name);
});

const refused: Array<{ name: string; files: Record<string, string>; message: RegExp }> = [
  { name: 'a plain path that does not exist', files: { Corefile: '. {\n import nothing.conf\n}\n' }, message: /Corefile line 2: import nothing\.conf: no such file or snippet/ },
  { name: 'an import cycle', files: { Corefile: '. {\n import a.conf\n}\n', 'a.conf': 'import a.conf\n' }, message: /nested more than 10 deep/ },
  { name: 'import without an argument', files: { Corefile: '. {\n import\n}\n' }, message: /line 2: 'import' needs/ },
  { name: 'a snippet argument the import does not give', files: { Corefile: '(s) {\n forward . {args[1]}\n}\n. {\n import s 10.0.0.1\n}\n' }, message: /argument 1 but the import gives 1/ },
  { name: 'an error in an imported file names that file', files: { Corefile: '. {\n import x.conf\n}\n', 'x.conf': 'errors\nrewrite2 name a b\n' }, message: /x\.conf line 2: plugin 'rewrite2' is not a plugin CoreDNS ships/ },
];

t.test('imports refused by name', async (t) => {
  for (const r of refused) {
    const err = await parseIn(t, r.files).then(() => null, (e: unknown) => e);
    t.ok(err instanceof ConfigError, `${r.name}: a ConfigError`);
    t.match((err as Error).message, r.message, `${r.name}: says why`);
  }
});
