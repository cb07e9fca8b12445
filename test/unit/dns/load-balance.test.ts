// loadbalance weighted and prefer: the weight file's reader, the draw of
// the first address with a chosen random number, and the preferred subnets'
// order (the Corefile tests in corefile-plugins.test.ts serve them for real).
import t from 'tap';
import { parseWeights } from '../../../src/dns/plugins/weight-file.ts';
import { LoadBalanceStep } from '../../../src/dns/plugins/load-balance.ts';
import { encodeWire, decodeWire } from '../../../src/dns/plugins/message.ts';
import type { WireRecord } from '../../../src/dns/plugins/message.ts';
import { parseQuery } from '../../../src/dns/wire/query.ts';
import type { Ask } from '../../../src/dns/plugins/pipeline.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WEIGHTS = `# comment
www.example.com
100.64.1.1 3
100.64.1.2 1

100.64.1.3 2
v6.example.com.
2001:db8::1 5
`;

t.test('weight file: names made absolute, addresses of both families, blank and # lines skipped', async (t) => {
  const w = parseWeights(WEIGHTS, 'w');
  t.strictSame([...w.keys()], ['www.example.com.', 'v6.example.com.']);
  t.strictSame([...w.get('www.example.com.')!.values()], [3, 1, 2]);
  t.strictSame([...w.get('v6.example.com.')!.values()], [5]);
});

t.test('weight file: errors name the file, the line and the problem', async (t) => {
  const rows: Array<[string, RegExp]> = [
    ['100.64.1.1\n', /w line 1: '100.64.1.1' is an address where a domain name is expected/],
    ['a.example\nnot-an-ip 3\n', /w line 2: 'not-an-ip' is not an IP address/],
    ['a.example\n10.0.0.1 0\n', /w line 2: weight '0' is not in \[1, 255\]/],
    ['a.example\n10.0.0.1 256\n', /weight '256'/],
    ['10.0.0.1 3\n', /w line 1: an address before any domain name/],
    ['a.example\n10.0.0.1 3 x\n', /w line 2: .* neither a domain name nor 'ADDRESS WEIGHT'/],
  ];
  for (const [text, message] of rows) t.throws(() => parseWeights(text, 'w'), message, text.trim());
});

const a = (name: string, ip: string): WireRecord => ({ name, type: 1, class: 1, ttl: 60, rdata: [Buffer.from(ip.split('.').map(Number))] });

function askFor(name: string, qtype: number): Ask {
  const packet = encodeWire({ id: 7, flags: 0x0100, question: [{ name, type: qtype, class: 1 }], answer: [], authority: [], additional: [] });
  const parsed = parseQuery(packet);
  if (parsed.kind !== 'query') throw new Error('bad query');
  return { packet, query: parsed.query, proto: 'udp' };
}

function firstAddress(step: LoadBalanceStep, answer: WireRecord[], qtype = 1): string[] {
  const ask = askFor('www.example.com.', qtype);
  const reply = encodeWire({ id: 7, flags: 0x8180, question: [{ name: 'www.example.com.', type: qtype, class: 1 }], answer, authority: [], additional: [] });
  const out = decodeWire(step.run(ask, () => reply) as Buffer)!;
  return out.answer.map((r) => (r.type === 1 ? [...(r.rdata[0] as Buffer)].join('.') : `type${r.type}`));
}

t.test('the draw: heaviest first, the random number picks by weight; CNAME first', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netlet-weights-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'w'), WEIGHTS);
  const records = () => [a('www.example.com.', '100.64.1.2'), a('www.example.com.', '100.64.1.3'), a('www.example.com.', '100.64.1.1'), a('www.example.com.', '100.64.1.9')];
  // Weights 3 (.1), 2 (.3), 1 (.2), 1 (.9 has none): total 7, ranked heaviest first.
  const rows: Array<[number, string]> = [[0, '100.64.1.1'], [2.99 / 7, '100.64.1.1'], [3 / 7, '100.64.1.3'], [5 / 7, '100.64.1.2'], [6.5 / 7, '100.64.1.9']];
  for (const [r, top] of rows) {
    const step = new LoadBalanceStep({ weightFile: join(dir, 'w'), reloadMs: 0, prefer: [] }, undefined, () => r);
    t.equal(firstAddress(step, records())[0], top, `random ${r.toFixed(3)}: ${top} first`);
  }
  const step = new LoadBalanceStep({ weightFile: join(dir, 'w'), reloadMs: 0, prefer: [] }, undefined, () => 0);
  const cname: WireRecord = { name: 'www.example.com.', type: 5, class: 1, ttl: 60, rdata: [{ name: 'x.example.com.' }] };
  t.strictSame(firstAddress(step, [a('www.example.com.', '100.64.1.2'), cname, a('www.example.com.', '100.64.1.1')]), ['type5', '100.64.1.1', '100.64.1.2'], 'CNAME before the addresses, the drawn one swapped to the top');
  t.strictSame(firstAddress(step, records(), 16), ['100.64.1.2', '100.64.1.3', '100.64.1.1', '100.64.1.9'], 'a TXT question is left alone');
});

t.test('a weight file that cannot be read: refused without reload, waited for with it', async (t) => {
  t.throws(() => new LoadBalanceStep({ weightFile: '/nonexistent/netlet-weights', reloadMs: 0, prefer: [] }), /cannot read the weight file \/nonexistent\/netlet-weights/);
  const step = new LoadBalanceStep({ weightFile: '/nonexistent/netlet-weights', reloadMs: 60_000, prefer: [] });
  t.teardown(() => step.stop());
  t.pass('with reload it starts with no weights');
});

t.test('prefer: addresses of the first CIDR, then the second, then the rest in their order; CNAME first', async (t) => {
  const step = new LoadBalanceStep({ weightFile: null, reloadMs: 0, prefer: ['10.9.20.0/24', '192.168.1.0/24'] });
  const cname: WireRecord = { name: 'www.example.com.', type: 5, class: 1, ttl: 60, rdata: [{ name: 'x.example.com.' }] };
  const v6: WireRecord = { name: 'www.example.com.', type: 28, class: 1, ttl: 60, rdata: [Buffer.alloc(16, 1)] };
  const got = firstAddress(step, [a('www.example.com.', '8.8.8.8'), a('www.example.com.', '192.168.1.5'), v6, cname, a('www.example.com.', '10.9.20.7'), a('www.example.com.', '192.168.1.4')]);
  t.strictSame(got, ['type5', '10.9.20.7', '192.168.1.5', '192.168.1.4', '8.8.8.8', 'type28']);
  t.strictSame(firstAddress(step, [a('www.example.com.', '8.8.8.8'), a('www.example.com.', '10.9.20.1')], 16), ['10.9.20.1', '8.8.8.8'], 'any question type, as CoreDNS');
});
