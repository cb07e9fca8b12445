import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostsForwarder } from '../../../src/dns/hosts/hosts-forwarder.ts';
import type { HostsConfig } from '../../../src/dns/hosts/hosts-table.ts';
import { reverseName } from '../../../src/dns/hosts/reverse-name.ts';
import { LoopDetector } from '../../../src/dns/forward/loop-detector.ts';
import { buildQuery, readName } from '../../../src/dns/wire/answer-reader.ts';
import { decodeReply as decode } from './dns-helpers.ts';

const config = (over: Partial<HostsConfig> = {}): HostsConfig => ({ file: '', inline: [], zones: ['.'], ttl: 3600, noReverse: false, fallthrough: null, reloadMs: 0, ...over });
const upstream = { forward: async (q: Buffer) => { const r = Buffer.from(q); r[2] |= 0x80; r[3] = 0x85; return r; } };

const rows: Array<{ name: string; config: Partial<HostsConfig>; qname: string; qtype: number; want: string }> = [
  { name: 'A from an inline entry', config: {}, qname: 'web.example.org.', qtype: 1, want: 'NOERROR web.example.org. 3600 IN A 10.0.0.1' },
  { name: 'alias on the same line', config: {}, qname: 'www.example.org.', qtype: 1, want: 'NOERROR www.example.org. 3600 IN A 10.0.0.1' },
  { name: 'AAAA', config: {}, qname: 'web.example.org.', qtype: 28, want: 'NOERROR web.example.org. 3600 IN AAAA fd00::1' },
  { name: 'case-insensitive, answered in the question\'s case', config: {}, qname: 'WEB.example.ORG.', qtype: 1, want: 'NOERROR WEB.example.ORG. 3600 IN A 10.0.0.1' },
  { name: 'known name, other type: NODATA', config: {}, qname: 'web.example.org.', qtype: 16, want: 'NOERROR' },
  { name: 'PTR generated', config: {}, qname: '1.0.0.10.in-addr.arpa.', qtype: 12, want: 'NOERROR 1.0.0.10.in-addr.arpa. 3600 IN PTR web.example.org.|1.0.0.10.in-addr.arpa. 3600 IN PTR www.example.org.' },
  { name: 'wildcard matches one label', config: {}, qname: 'apps.wild.example.org.', qtype: 1, want: 'NOERROR apps.wild.example.org. 3600 IN A 10.0.0.9' },
  { name: 'unknown name without fallthrough: NXDOMAIN', config: {}, qname: 'nope.example.org.', qtype: 1, want: 'NXDOMAIN' },
  { name: 'unknown name with fallthrough: next plugin', config: { fallthrough: [] }, qname: 'nope.example.org.', qtype: 1, want: 'REFUSED' },
  { name: 'fallthrough limited to other zones', config: { fallthrough: ['other.test.'] }, qname: 'nope.example.org.', qtype: 1, want: 'NXDOMAIN' },
  { name: 'outside the hosts zones: next plugin', config: { zones: ['example.org.'] }, qname: 'a.other.test.', qtype: 1, want: 'REFUSED' },
  { name: 'ttl', config: { ttl: 60 }, qname: 'web.example.org.', qtype: 1, want: 'NOERROR web.example.org. 60 IN A 10.0.0.1' },
];

t.test('hosts answers', async (t) => {
  const inline = ['10.0.0.1 web.example.org www.example.org', 'fd00::1 web.example.org', '10.0.0.9 *.wild.example.org', '# comment', 'garbage'];
  for (const r of rows) {
    const h = new HostsForwarder(config({ inline, ...r.config }), upstream);
    const reply = await h.forward(buildQuery(9, r.qname, r.qtype));
    const d = decode(reply!);
    t.equal([d.rcode, d.answer.join('|')].filter(Boolean).join(' '), r.want, r.name);
  }
});

t.test('the hosts file is read, re-read on change, and inline entries win', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dnf-hosts-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'hosts');
  await writeFile(file, '192.0.2.1 a.example.org\n192.0.2.2 b.example.org\n');
  const h = new HostsForwarder(config({ file, inline: ['10.9.9.9 b.example.org'] }), null);
  await h.start();
  const a = async (n: string) => decode((await h.forward(buildQuery(1, n, 1)))!).answer.join();
  t.match(await a('a.example.org.'), /192\.0\.2\.1/);
  t.match(await a('b.example.org.'), /10\.9\.9\.9/, 'inline overrides the file');
  await writeFile(file, '192.0.2.3 a.example.org\n# longer file now\n');
  await h.reload();
  t.match(await a('a.example.org.'), /192\.0\.2\.3/, 'a changed file is re-read');
  await rm(file);
  await h.reload();
  t.equal(await a('a.example.org.'), '', 'file gone: only inline entries');
  t.match(await a('b.example.org.'), /10\.9\.9\.9/);
  h.stop();
});

t.test('reverse names', async (t) => {
  t.equal(reverseName('10.0.0.1'), '1.0.0.10.in-addr.arpa.');
  t.equal(reverseName('fd00::1'), `1.${'0.'.repeat(29)}d.f.ip6.arpa.`);
});

t.test('loop: its probe seen more than twice is a loop', async (t) => {
  const loops: string[] = [];
  const next = { forward: async () => null };
  const l = new LoopDetector('.', next, (m) => loops.push(m));
  t.match(l.probeName, /^\d+\.\d+\.$/, '<random>.<random>.zone');
  const probe = buildQuery(1, l.probeName, 13);
  t.equal(readName(probe, 12)!.name, l.probeName);
  await l.forward(buildQuery(1, 'other.example.', 13));
  await l.forward(probe);
  await l.forward(probe);
  t.equal(loops.length, 0, 'seen twice: not yet');
  await l.forward(probe);
  t.equal(loops.length, 1, 'seen a third time: loop');
  t.match(loops[0], /HINFO IN \d+\.\d+\./);
});
