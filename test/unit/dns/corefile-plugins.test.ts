// Plugins as a Corefile turns them on, served over UDP and TCP: tables of
// query → rcode and answer as zone text, in the style of CoreDNS's tests.
import t from 'tap';
import type { Test } from 'tap';
import { inQueryOrder } from '../../../src/dns/corefile/plugin-order.ts';
import { FakeUpstream } from './fake-upstream.ts';
import { askAt, checkRows, serveCorefile } from './corefile-server.ts';
import { decodeWire } from '../../../src/dns/plugins/message.ts';

const Z = 'svc.cluster.local.';

/** An upstream that answers every A question with `answer`: which forward took a name shows in the answer. */
async function upstream(t: Test, answer: string): Promise<FakeUpstream> {
  const u = new FakeUpstream(answer);
  await u.start();
  t.teardown(() => u.stop());
  return u;
}

t.test("plugin order is plugin.cfg's, not the file's", async (t) => {
  t.strictSame(inQueryOrder(['forward', 'cache', 'kubernetes', 'log', 'errors', 'rewrite', 'whoami', 'bind']), ['bind', 'errors', 'log', 'cache', 'rewrite', 'kubernetes', 'forward', 'whoami']);
  const u = await upstream(t, '10.9.9.9');
  // forward written before kubernetes: kubernetes still answers its zone first.
  const served = await serveCorefile(t, { Corefile: `.:0 {\n bind 127.0.0.1\n forward . ${u.label}\n kubernetes cluster.local\n}\n` });
  await checkRows(t, served, [
    { name: 'cluster name from kubernetes', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
    { name: 'the rest forwarded', qname: 'example.com.', qtype: 'A', rcode: 'NOERROR', answer: ['example.com. 300 IN A 10.9.9.9'] },
  ]);
});

t.test('forward: several per block, except', async (t) => {
  const [a, b] = [await upstream(t, '10.1.1.1'), await upstream(t, '10.2.2.2')];
  const served = await serveCorefile(t, {
    Corefile: `.:0 {\n bind 127.0.0.1\n forward corp.example ${b.label}\n forward . ${a.label} {\n  except skip.example\n }\n}\n`,
  });
  await checkRows(t, served, [
    { name: 'the first forward whose zone covers the name', qname: 'www.corp.example.', qtype: 'A', rcode: 'NOERROR', answer: ['www.corp.example. 300 IN A 10.2.2.2'] },
    { name: 'the catch-all', qname: 'www.example.com.', qtype: 'A', rcode: 'NOERROR', answer: ['www.example.com. 300 IN A 10.1.1.1'] },
    { name: 'an except zone is taken by no forward', qname: 'a.skip.example.', qtype: 'A', rcode: 'REFUSED', answer: [] },
  ]);
});

t.test('forward: next RCODE hands such replies to the next forward; failover to the next upstream', async (t) => {
  const [a, b, c] = [await upstream(t, '10.1.1.1'), await upstream(t, '10.2.2.2'), await upstream(t, '10.3.3.3')];
  a.rcode = 3; // NXDOMAIN from the first forward's upstream
  c.rcode = 2; // SERVFAIL from the first upstream of the second
  const served = await serveCorefile(t, {
    Corefile: `.:0 {\n bind 127.0.0.1\n forward . ${a.label} {\n  next NXDOMAIN servfail\n }\n forward . ${c.label} ${b.label} {\n  policy sequential\n  failover SERVFAIL\n  failfast_all_unhealthy_upstreams\n }\n}\n`,
  });
  await checkRows(t, served, [
    { name: 'NXDOMAIN goes to the next forward, whose SERVFAIL fails over to its second upstream', qname: 'www.example.com.', qtype: 'A', rcode: 'NOERROR', answer: ['www.example.com. 300 IN A 10.2.2.2'] },
  ]);
  a.rcode = 0;
  await checkRows(t, served, [
    { name: 'an rcode next does not name stands', qname: 'www.example.org.', qtype: 'A', rcode: 'NOERROR', answer: ['www.example.org. 300 IN A 10.1.1.1'] },
  ]);
});

/** The EDNS0 options of a query's OPT record as [code, hex data] pairs; null without OPT. */
function ednsOptions(packet: Buffer): Array<[number, string]> | null {
  const m = decodeWire(packet);
  const opt = m?.additional.find((r) => r.type === 41);
  if (!opt) return null;
  const data = Buffer.concat(opt.rdata.filter((p): p is Buffer => Buffer.isBuffer(p)));
  const out: Array<[number, string]> = [];
  for (let i = 0; i < data.length; i += 4 + data.readUInt16BE(i + 2)) out.push([data.readUInt16BE(i), data.subarray(i + 4, i + 4 + data.readUInt16BE(i + 2)).toString('hex')]);
  return out;
}

t.test('rewrite edns0 local, nsid, subnet: set, replace, append in the query sent on', async (t) => {
  const u = await upstream(t, '10.4.4.4');
  const served = await serveCorefile(t, {
    Corefile: `.:0 {
  bind 127.0.0.1
  rewrite continue edns0 local replace 0xfff0 0x01
  rewrite continue edns0 local set 0xffee 0x61626364
  rewrite continue edns0 local set 0xffee abcd
  rewrite continue edns0 nsid append
  rewrite edns0 subnet set 24 56
  rewrite edns0 local append 0xfff1 0x02
  forward . ${u.label}
}
`,
  });
  await checkRows(t, served, [
    { name: 'answered as usual', qname: 'www.example.com.', qtype: 'A', rcode: 'NOERROR', answer: ['www.example.com. 300 IN A 10.4.4.4'] },
  ]);
  t.ok(u.packets.length >= 2, 'the upstream was asked (UDP and TCP)');
  const plain = await askAt(served.port, 'plain.example.com.', 'A');
  t.equal(plain.optSize, 0, 'no OPT back to a client that sent none');
  const withEdns = await askAt(served.port, 'edns.example.com.', 'A', 'udp', { udpSize: 1232 });
  t.ok(withEdns.optSize > 0, 'an OPT back to a client that sent one');
  for (const p of u.packets) {
    t.strictSame(ednsOptions(p), [
      [0xffee, Buffer.from('abcd').toString('hex')],
      [3, ''],
      [8, '00011800' + '7f0000'],
    ], 'replace adds nothing that is not there; set adds once then changes; nsid appended; subnet from the client (127.0.0.0/24); the rule after a stop one is not applied');
  }
});

t.test('rewrite: name (exact, prefix, suffix, substring, regex), answer auto/name/value, ttl', async (t) => {
  const served = await serveCorefile(t, {
    Corefile: `.:0 {
  bind 127.0.0.1
  rewrite name foo.example.com svc1.testns.svc.cluster.local
  rewrite name prefix old-svc1. svc1.
  rewrite name suffix .corp.internal. .testns.svc.cluster.local. answer auto
  rewrite name substring .ns-old. .testns.
  rewrite name regex (.*)\\.web\\.example\\. {1}.testns.svc.cluster.local. answer name (.*)\\.testns\\.svc\\.cluster\\.local\\. {1}.web.example.
  rewrite name exact ext-alias.example. external.testns.svc.cluster.local. answer value (.*)\\.interwebs\\.test\\. {1}.outside.example.
  rewrite ttl exact dual.testns.svc.cluster.local. 60
  kubernetes cluster.local
}
`,
  });
  await checkRows(t, served, [
    { name: 'exact: answer owners changed back', qname: 'foo.example.com.', qtype: 'A', rcode: 'NOERROR', answer: ['foo.example.com. 5 IN A 10.0.0.1'] },
    { name: 'prefix: the answer keeps the rewritten owner', qname: `old-svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
    { name: 'suffix with answer auto', qname: 'svc1.corp.internal.', qtype: 'A', rcode: 'NOERROR', answer: ['svc1.corp.internal. 5 IN A 10.0.0.1'] },
    { name: 'substring', qname: 'svc1.ns-old.svc.cluster.local.', qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
    { name: 'regex with answer name', qname: 'svc1.web.example.', qtype: 'A', rcode: 'NOERROR', answer: ['svc1.web.example. 5 IN A 10.0.0.1'] },
    { name: 'answer value rewrites a CNAME target', qname: 'ext-alias.example.', qtype: 'CNAME', rcode: 'NOERROR', answer: ['ext-alias.example. 5 IN CNAME ext.outside.example.'] },
    { name: 'ttl', qname: `dual.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`dual.testns.${Z} 60 IN A 10.0.0.3`] },
    { name: 'a name no rule matches', qname: `svc6.testns.${Z}`, qtype: 'AAAA', rcode: 'NOERROR', answer: [`svc6.testns.${Z} 5 IN AAAA 1234:abcd::1`] },
    { name: 'a rewritten name that does not exist', qname: 'nope.corp.internal.', qtype: 'A', rcode: 'NXDOMAIN', answer: [] },
  ]);
});

t.test('rewrite: type and class, continue and stop', async (t) => {
  const served = await serveCorefile(t, {
    Corefile: `.:0 {
  bind 127.0.0.1
  rewrite continue name exact a.example. svc1.testns.svc.cluster.local.
  rewrite type AAAA A
  rewrite class CH IN
  kubernetes cluster.local
}
`,
  });
  await checkRows(t, served, [
    { name: 'type rewritten, and continue applies the next rule', qname: 'a.example.', qtype: 'AAAA', rcode: 'NOERROR', answer: ['a.example. 5 IN A 10.0.0.1'] },
    { name: 'class CH asked as IN', qname: `svc1.testns.${Z}`, qtype: 'A', qclass: 3, rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
  ]);
});

t.test('rewrite: rcode (exact, suffix, regex in the block form, numbers, continue)', async (t) => {
  const served = await serveCorefile(t, {
    Corefile: `.:0 {
  bind 127.0.0.1
  rewrite rcode nope.testns.svc.cluster.local NXDOMAIN NOERROR
  rewrite continue {
    rcode regex (.*)\\.gone\\.svc\\.cluster\\.local\\. 3 5
  }
  rewrite rcode suffix .gone.svc.cluster.local. REFUSED SERVFAIL
  rewrite rcode prefix svc1. NXDOMAIN REFUSED
  kubernetes cluster.local
}
`,
  });
  await checkRows(t, served, [
    { name: 'exact: NXDOMAIN becomes NOERROR', qname: `nope.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [] },
    { name: 'regex then, with continue, suffix: NXDOMAIN to REFUSED to SERVFAIL', qname: `x.gone.${Z}`, qtype: 'A', rcode: 'SERVFAIL', answer: [] },
    { name: 'prefix: an answer with another rcode is left alone', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
    { name: 'a name no rule matches keeps its NXDOMAIN', qname: `other.testns.${Z}`, qtype: 'A', rcode: 'NXDOMAIN', answer: [] },
  ]);
});

t.test('rewrite: cname (exact, prefix, suffix, substring, regex): the target rewritten and looked up', async (t) => {
  // The template answers X.alias.test. with a CNAME to X. and an address for X., as an upstream's chain would.
  const served = await serveCorefile(t, {
    Corefile: `.:0 {
  bind 127.0.0.1
  rewrite continue cname a.example. svc1.testns.svc.cluster.local.
  rewrite continue cname prefix old-svc1. svc1.
  rewrite continue cname suffix .cluster.remote. .cluster.local.
  rewrite continue cname substring .ns-old. .testns.
  rewrite continue cname regex ^(svc[0-9]+)\\.web\\.example\\.$ {1}.testns.svc.cluster.local.
  template IN A alias.test {
    match ^(.*)[.]alias[.]test[.]$
    answer "{{ .Name }} 60 IN CNAME {{ index .Match 1 }}."
    answer "{{ index .Match 1 }}. 60 IN A 20.2.0.1"
  }
  kubernetes cluster.local
}
`,
  });
  const chain = (q: string, target: string, address: string) => [`${q} 60 IN CNAME ${target}`, `${target} 5 IN A ${address}`];
  await checkRows(t, served, [
    { name: 'exact: the target changed, the records after it are its lookup', qname: 'a.example.alias.test.', qtype: 'A', rcode: 'NOERROR', answer: chain('a.example.alias.test.', `svc1.testns.${Z}`, '10.0.0.1') },
    { name: 'prefix', qname: `old-svc1.testns.${Z}alias.test.`, qtype: 'A', rcode: 'NOERROR', answer: chain(`old-svc1.testns.${Z}alias.test.`, `svc1.testns.${Z}`, '10.0.0.1') },
    { name: 'suffix', qname: 'dual.testns.svc.cluster.remote.alias.test.', qtype: 'A', rcode: 'NOERROR', answer: chain('dual.testns.svc.cluster.remote.alias.test.', `dual.testns.${Z}`, '10.0.0.3') },
    { name: 'substring', qname: 'svc1.ns-old.svc.cluster.local.alias.test.', qtype: 'A', rcode: 'NOERROR', answer: chain('svc1.ns-old.svc.cluster.local.alias.test.', `svc1.testns.${Z}`, '10.0.0.1') },
    { name: 'regex', qname: 'svc1.web.example.alias.test.', qtype: 'A', rcode: 'NOERROR', answer: chain('svc1.web.example.alias.test.', `svc1.testns.${Z}`, '10.0.0.1') },
    { name: 'a new target that does not exist: the CNAME alone', qname: 'nope.testns.svc.cluster.remote.alias.test.', qtype: 'A', rcode: 'NOERROR', answer: ['nope.testns.svc.cluster.remote.alias.test. 60 IN CNAME nope.testns.svc.cluster.local.'] },
    { name: 'a target no rule matches is left alone', qname: 'other.example.alias.test.', qtype: 'A', rcode: 'NOERROR', answer: ['other.example.alias.test. 60 IN CNAME other.example.', 'other.example. 60 IN A 20.2.0.1'] },
    { name: 'a reply without CNAME is left alone', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
  ]);
});

t.test('chaos, local, any, minimal, bufsize, acl', async (t) => {
  const served = await serveCorefile(t, {
    Corefile: `.:0 {
  bind 127.0.0.1
  chaos netlet-test Alice Bob
  local
  any
  minimal
  bufsize 1232
  acl svc.cluster.local {
    block type TXT net 127.0.0.0/8
    filter type PTR
    allow
  }
  kubernetes cluster.local 10.0.0.0/24
}
`,
  });
  await checkRows(t, served, [
    { name: 'chaos version.bind', qname: 'version.bind.', qtype: 'TXT', qclass: 3, rcode: 'NOERROR', answer: ['version.bind. 0 CH TXT "netlet-test"'] },
    { name: 'chaos authors.bind', qname: 'authors.bind.', qtype: 'TXT', qclass: 3, rcode: 'NOERROR', answer: ['authors.bind. 0 CH TXT "Alice"', 'authors.bind. 0 CH TXT "Bob"'] },
    { name: 'local localhost A', qname: 'localhost.', qtype: 'A', rcode: 'NOERROR', answer: ['localhost. 0 IN A 127.0.0.1'] },
    { name: 'local localhost AAAA', qname: 'localhost.', qtype: 'AAAA', rcode: 'NOERROR', answer: ['localhost. 0 IN AAAA ::1'] },
    { name: 'local loopback PTR', qname: '1.0.0.127.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR', answer: ['1.0.0.127.in-addr.arpa. 0 IN PTR localhost.'] },
    { name: 'local: other loopback reverse names', qname: '5.0.0.127.in-addr.arpa.', qtype: 'PTR', rcode: 'NXDOMAIN', answer: [] },
    // HINFO is type 13; the reference decoder prints no HINFO data (dig does, in the whole-Corefile tests).
    { name: 'any: ANY gets one HINFO', qname: `svc1.testns.${Z}`, qtype: 'ANY', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 8482 IN TYPE13 ?`] },
    { name: 'minimal: SRV without its additional A', qname: `_http._tcp.svc1.testns.${Z}`, qtype: 'SRV', rcode: 'NOERROR', answer: [`_http._tcp.svc1.testns.${Z} 5 IN SRV 0 100 80 svc1.testns.${Z}`], additional: [] },
    { name: 'bufsize: a larger EDNS size is brought down', qname: `svc1.testns.${Z}`, qtype: 'A', udpSize: 4096, rcode: 'NOERROR', optSize: 1232, proto: 'udp' },
    { name: 'acl block by type and net', qname: `svc1.testns.${Z}`, qtype: 'TXT', rcode: 'REFUSED', answer: [] },
    { name: 'acl allows the rest', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
    { name: 'acl only in its zones', qname: '1.0.0.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR', answer: [`1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.${Z}`] },
  ]);
});

t.test('whoami answers what the block leaves', async (t) => {
  const served = await serveCorefile(t, { Corefile: 'who.test:0 {\n bind 127.0.0.1\n whoami\n}\n' });
  const { askAt } = await import('./corefile-server.ts');
  for (const proto of ['udp', 'tcp'] as const) {
    const r = await askAt(served.port, 'x.who.test.', 'A', proto);
    t.equal(r.rcode, 'NOERROR', `${proto}: NOERROR`);
    t.strictSame(r.answer, [], `${proto}: nothing in the answer`);
    t.equal(r.additional[0], 'x.who.test. 0 IN A 127.0.0.1', `${proto}: the client's address`);
    t.match(r.additional[1], new RegExp(`^_${proto}\\.x\\.who\\.test\\. 0 IN SRV 0 0 \\d+ \\.$`), `${proto}: the client's port`);
  }
});

t.test('log: names, classes and the combined format', async (t) => {
  const served = await serveCorefile(t, {
    Corefile: `.:0 {\n bind 127.0.0.1\n log svc.cluster.local {combined} {\n  class denial error\n }\n kubernetes cluster.local\n}\n`,
  });
  const { askAt } = await import('./corefile-server.ts');
  await askAt(served.port, `svc1.testns.${Z}`, 'A'); // success: not logged
  await askAt(served.port, `nope.testns.${Z}`, 'A'); // denial (NXDOMAIN)
  await askAt(served.port, `svc1.testns.${Z}`, 'AAAA'); // denial (NODATA)
  await askAt(served.port, 'dns-version.cluster.local.', 'A'); // outside the logged names
  const logged = served.lines.filter((l) => l.plugin === 'log').map((l) => [l.name, l.rcode]);
  t.strictSame(logged, [[`nope.testns.${Z}`, 'NXDOMAIN'], [`svc1.testns.${Z}`, 'NOERROR']], 'only denials under the names');
  t.match(String(served.lines.find((l) => l.plugin === 'log')?.msg), /^127\.0\.0\.1:\d+ - \d+ "A IN nope\.testns\.svc\.cluster\.local\. udp \d+ false 512" NXDOMAIN qr,aa,rd \d+ [\d.]+s "QUERY"$/, 'combined format');
});

t.test('log: a query a front plugin answers (template) is logged too', async (t) => {
  const served = await serveCorefile(t, {
    Corefile: `.:0 {
 bind 127.0.0.1
 log
 template IN A example.org {
  answer "{{ .Name }} 60 IN A 10.5.5.5"
 }
 kubernetes cluster.local
}
`,
  });
  const { askAt } = await import('./corefile-server.ts');
  await askAt(served.port, 'a.example.org.', 'A');
  await askAt(served.port, `svc1.testns.${Z}`, 'A');
  const logged = served.lines.filter((l) => l.plugin === 'log').map((l) => [l.name, l.rcode]);
  t.strictSame(logged, [['a.example.org.', 'NOERROR'], [`svc1.testns.${Z}`, 'NOERROR']], 'both, in order');
  t.match(String(served.lines.find((l) => l.plugin === 'log')?.msg), /^127\.0\.0\.1:\d+ - \d+ "A IN a\.example\.org\. udp \d+ false 512" NOERROR qr,aa,rd \d+ [\d.]+s$/, 'common format');
});

t.test('errors: SERVFAILs logged, consolidated by pattern', async (t) => {
  const { ObjectStore } = await import('../../../src/k8s/store.ts');
  // A store that never syncs: the cluster zone answers SERVFAIL.
  const served = await serveCorefile(t, { Corefile: `.:0 {\n bind 127.0.0.1\n errors {\n  consolidate 300ms "svc1\\." warning\n }\n kubernetes cluster.local\n}\n` }, { store: new ObjectStore() });
  const { askAt } = await import('./corefile-server.ts');
  for (let i = 0; i < 3; i++) t.equal((await askAt(served.port, `svc1.testns.${Z}`, 'A')).rcode, 'SERVFAIL');
  await askAt(served.port, `svc6.testns.${Z}`, 'A');
  await new Promise((r) => setTimeout(r, 450));
  const errors = served.lines.filter((l) => l.plugin === 'errors').map((l) => [l.level, l.msg]);
  t.strictSame(errors, [[50, `2 svc6.testns.${Z} A: the query could not be answered`], [40, "3 errors like 'svc1\\.' occurred in last 0.3s"]]);
});

t.test('template', async (t) => {
  const served = await serveCorefile(t, {
    Corefile: `.:0 {
  bind 127.0.0.1
  template IN A example.test {
    match "^ip-(?P<a>[0-9]+)-(?P<b>[0-9]+)-(?P<c>[0-9]+)-(?P<d>[0-9]+)[.]example[.]test[.]$"
    answer "{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
    fallthrough
  }
  template IN ANY example.test {
    match ^(www)[.]example[.]test[.]$
    answer "{{ .Name }} 120 IN CNAME web.{{ .Zone }}"
    additional "web.{{ .Zone }} 120 IN A 192.0.2.1"
  }
  template ANY AAAA {
    rcode NXDOMAIN
    authority "{{ .Zone }} 60 IN SOA ns.example. hostmaster.example. 1 7200 1800 86400 30"
    ederror 21 "Blocked according to RFC2606"
  }
  template IN MX ede.test {
    ederror 17
  }
  template IN TXT kind.test {
    answer "{{ .Name }} 5 IN TXT \\"{{ .Class }} {{ .Type }} {{ index .Match 0 }}\\""
  }
}
`,
  });
  await checkRows(t, served, [
    { name: 'named groups make the address', qname: 'ip-10-1-2-3.example.test.', qtype: 'A', rcode: 'NOERROR', answer: ['ip-10-1-2-3.example.test. 60 IN A 10.1.2.3'] },
    { name: 'no match, fallthrough: the next template', qname: 'www.example.test.', qtype: 'A', rcode: 'NOERROR', answer: ['www.example.test. 120 IN CNAME web.example.test.'], additional: ['web.example.test. 120 IN A 192.0.2.1'] },
    { name: 'no match, no fallthrough: NXDOMAIN', qname: 'mail.example.test.', qtype: 'MX', rcode: 'NXDOMAIN', answer: [] },
    { name: 'rcode and authority for every AAAA, no OPT asked: no EDE', qname: 'anything.org.', qtype: 'AAAA', rcode: 'NXDOMAIN', answer: [], ede: [] },
    { name: 'ederror CODE EXTRA in the OPT of an EDNS query', qname: 'anything.org.', qtype: 'AAAA', udpSize: 1232, rcode: 'NXDOMAIN', answer: [], ede: ['21 Blocked according to RFC2606'], optSize: 1232 },
    { name: 'ederror CODE alone', qname: 'a.ede.test.', qtype: 'MX', udpSize: 1232, rcode: 'NOERROR', answer: [], ede: ['17'] },
    { name: 'a template without ederror: an empty OPT', qname: 'a.kind.test.', qtype: 'TXT', udpSize: 1232, rcode: 'NOERROR', ede: [] },
    { name: 'class, type and the match', qname: 'a.kind.test.', qtype: 'TXT', rcode: 'NOERROR', answer: ['a.kind.test. 5 IN TXT "IN TXT a.kind.test."'] },
    { name: 'a type no template takes', qname: 'a.kind.test.', qtype: 'A', rcode: 'REFUSED', answer: [] },
  ]);
});

const ZONE_FILE = `$ORIGIN example.org.
$TTL 3600
@       IN SOA  ns1.example.org. hostmaster.example.org. (
                2024010101 ; serial
                7200       ; refresh
                3600       ; retry
                1209600    ; expire
                300 )      ; minimum
        IN NS   ns1
ns1     IN A    192.0.2.53
www     IN A    192.0.2.1
        IN AAAA 2001:db8::1
alias   60 IN CNAME www
mail    IN MX   10 mx.example.org.
mx      IN A    192.0.2.25
txt     IN TXT  "v=spf1 -all" "second"
*.wild  IN A    192.0.2.99
sub     IN NS   ns.sub
ns.sub  IN A    192.0.2.77
`;

t.test('loadbalance weighted: the heavy address comes first nearly always, the reply keeps every record', async (t) => {
  const zone = `$ORIGIN example.org.\n$TTL 60\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n  IN NS ns1\nns1 IN A 192.0.2.53\nwww IN A 192.0.2.1\n    IN A 192.0.2.2\n    IN A 192.0.2.3\n`;
  const served = await serveCorefile(t, {
    Corefile: 'example.org:0 {\n bind 127.0.0.1\n file db.example.org\n loadbalance weighted db.example.org.weights {\n  reload 0s\n }\n}\n',
    'db.example.org': zone,
    'db.example.org.weights': '# heavy .3\nwww.example.org\n192.0.2.3 255\n192.0.2.1 1\n',
  });
  const { askAt } = await import('./corefile-server.ts');
  let heavyFirst = 0;
  const n = 60;
  for (let i = 0; i < n; i++) {
    const r = await askAt(served.port, 'www.example.org.', 'A');
    if (i === 0) t.strictSame([...r.answer].sort(), ['www.example.org. 60 IN A 192.0.2.1', 'www.example.org. 60 IN A 192.0.2.2', 'www.example.org. 60 IN A 192.0.2.3'], 'every address is kept');
    if (r.answer[0] === 'www.example.org. 60 IN A 192.0.2.3') heavyFirst++;
  }
  // Weight 255 of 257: expected 59.5 of 60; below 54 has a probability under 1e-9.
  t.ok(heavyFirst >= 54, `192.0.2.3 first in ${heavyFirst} of ${n} replies`);
});

t.test('loadbalance round_robin with prefer: the preferred subnet first', async (t) => {
  const zone = `$ORIGIN example.org.\n$TTL 60\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n  IN NS ns1\nns1 IN A 192.0.2.53\nwww IN A 192.0.2.1\n    IN A 198.51.100.2\n    IN A 192.0.2.3\n`;
  const served = await serveCorefile(t, {
    Corefile: 'example.org:0 {\n bind 127.0.0.1\n file db.example.org\n loadbalance round_robin {\n  prefer 198.51.100.0/24\n }\n}\n',
    'db.example.org': zone,
  });
  await checkRows(t, served, [
    { name: 'the address in 198.51.100.0/24 first, the rest in order', qname: 'www.example.org.', qtype: 'A', rcode: 'NOERROR', answer: ['www.example.org. 60 IN A 198.51.100.2', 'www.example.org. 60 IN A 192.0.2.1', 'www.example.org. 60 IN A 192.0.2.3'] },
  ]);
});

t.test('file: an RFC 1035 zone', async (t) => {
  const served = await serveCorefile(t, { Corefile: 'example.org:0 {\n bind 127.0.0.1\n file db.example.org\n}\n', 'db.example.org': ZONE_FILE });
  const NS = ['example.org. 3600 IN NS ns1.example.org.'];
  await checkRows(t, served, [
    { name: 'A with the apex NS in authority', qname: 'www.example.org.', qtype: 'A', rcode: 'NOERROR', answer: ['www.example.org. 3600 IN A 192.0.2.1'], additional: ['ns1.example.org. 3600 IN A 192.0.2.53'] },
    { name: 'AAAA on a repeated owner', qname: 'www.example.org.', qtype: 'AAAA', rcode: 'NOERROR', answer: ['www.example.org. 3600 IN AAAA 2001:db8::1'] },
    { name: 'CNAME followed in the zone', qname: 'alias.example.org.', qtype: 'A', rcode: 'NOERROR', answer: ['alias.example.org. 60 IN CNAME www.example.org.', 'www.example.org. 3600 IN A 192.0.2.1'] },
    // The reference decoder prints no MX data; the exchange's address in additional shows it was read.
    { name: 'MX with its address', qname: 'mail.example.org.', qtype: 'MX', rcode: 'NOERROR', answer: ['mail.example.org. 3600 IN MX ?'], additional: ['mx.example.org. 3600 IN A 192.0.2.25', 'ns1.example.org. 3600 IN A 192.0.2.53'] },
    { name: 'TXT with two strings', qname: 'txt.example.org.', qtype: 'TXT', rcode: 'NOERROR', answer: ['txt.example.org. 3600 IN TXT "v=spf1 -all" "second"'] },
    { name: 'a wildcard', qname: 'anything.wild.example.org.', qtype: 'A', rcode: 'NOERROR', answer: ['anything.wild.example.org. 3600 IN A 192.0.2.99'] },
    { name: 'NODATA with the SOA', qname: 'www.example.org.', qtype: 'TXT', rcode: 'NOERROR', answer: [] },
    { name: 'NXDOMAIN', qname: 'nope.example.org.', qtype: 'A', rcode: 'NXDOMAIN', answer: [] },
    { name: 'apex NS', qname: 'example.org.', qtype: 'NS', rcode: 'NOERROR', answer: NS },
    { name: 'a referral below the delegation', qname: 'host.sub.example.org.', qtype: 'A', rcode: 'NOERROR', answer: [], additional: ['ns.sub.example.org. 3600 IN A 192.0.2.77'] },
  ]);
  const { askAt } = await import('./corefile-server.ts');
  const nx = await askAt(served.port, 'nope.example.org.', 'A');
  t.strictSame(nx.authority, ['example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. SERIAL 7200 3600 1209600 300'], 'NXDOMAIN carries the SOA, TTL its minimum');
  t.equal(nx.flags.aa, true, 'authoritative');
  const referral = await askAt(served.port, 'host.sub.example.org.', 'A');
  t.strictSame([referral.authority, referral.flags.aa], [['sub.example.org. 3600 IN NS ns.sub.example.org.'], false], 'referral: NS in authority, not authoritative');
});

t.test('file: a broken zone file stops the start, naming file and line', async (t) => {
  const { DnsComponent } = await import('../../../src/dns/component.ts');
  const { filesIn } = await import('./corefile-server.ts');
  const { pino } = await import('pino');
  const { Registry } = await import('prom-client');
  const { syncedStore } = await import('./dns-helpers.ts');
  const dir = await filesIn(t, { Corefile: 'example.org:0 {\n bind 127.0.0.1\n file db\n}\n', db: '@ IN SOA a. b. 1 2 3 4 5\nwww IN A 300.1.1.1\n' });
  const dns = new DnsComponent({ log: pino({ level: 'silent' }), metrics: new Registry(), store: syncedStore([]), nodeName: 'n1' }, { corefile: `${dir}/Corefile` });
  await t.rejects(dns.start(), /file: zone file .*db: line 2: '300\.1\.1\.1' is not an IPv4 address/);
});

t.test('autopath @kubernetes walks the client pod’s search path', async (t) => {
  const { syncedStore } = await import('./dns-helpers.ts');
  const { clusterObjects } = await import('./fixture.ts');
  const { pod } = await import('../../helpers/objects.ts');
  // The client (127.0.0.1) is a pod in the namespace default.
  const store = syncedStore([...clusterObjects(), pod('default', 'client', '127.0.0.1')]);
  const served = await serveCorefile(t, { Corefile: '.:0 {\n bind 127.0.0.1\n autopath @kubernetes\n kubernetes cluster.local {\n  pods verified\n }\n}\n' }, { store });
  await checkRows(t, served, [
    {
      name: 'the first search domain asked: answered from the one that has the name',
      qname: 'svc1.testns.default.svc.cluster.local.', qtype: 'A', rcode: 'NOERROR',
      answer: ['svc1.testns.default.svc.cluster.local. 5 IN CNAME svc1.testns.svc.cluster.local.', `svc1.testns.${Z} 5 IN A 10.0.0.1`],
    },
    { name: 'a name outside the first search domain: as asked', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
    { name: 'nowhere to be found: the first answer', qname: 'nope.default.svc.cluster.local.', qtype: 'A', rcode: 'NXDOMAIN', answer: [] },
  ]);
});

t.test("hosts is asked before kubernetes for a name in both (plugin.cfg's order)", async (t) => {
  const u = await upstream(t, '10.9.9.9');
  const served = await serveCorefile(t, {
    Corefile: `.:0 {
 bind 127.0.0.1
 kubernetes cluster.local in-addr.arpa {
  fallthrough in-addr.arpa
 }
 hosts {
  10.77.0.1 svc1.testns.svc.cluster.local
  10.77.0.2 pinned.example
  fallthrough
 }
 forward . ${u.label}
}
`,
  });
  await checkRows(t, served, [
    { name: 'a cluster name hosts has: hosts answers, not the service', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 3600 IN A 10.77.0.1`] },
    { name: 'the same name asked for AAAA: hosts has it, so NODATA', qname: `svc1.testns.${Z}`, qtype: 'AAAA', rcode: 'NOERROR', answer: [] },
    { name: 'a cluster name hosts lacks falls through to kubernetes', qname: `svc6.testns.${Z}`, qtype: 'AAAA', rcode: 'NOERROR', answer: [`svc6.testns.${Z} 5 IN AAAA 1234:abcd::1`] },
    { name: "hosts's reverse record in the kubernetes reverse zone", qname: '1.0.77.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR', answer: [`1.0.77.10.in-addr.arpa. 3600 IN PTR svc1.testns.${Z}`] },
    { name: 'a service PTR hosts lacks: kubernetes', qname: '1.0.0.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR', answer: [`1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.${Z}`] },
    { name: 'outside the cluster zones hosts still stands before forward', qname: 'pinned.example.', qtype: 'A', rcode: 'NOERROR', answer: ['pinned.example. 3600 IN A 10.77.0.2'] },
    { name: 'and the rest is forwarded', qname: 'other.example.', qtype: 'A', rcode: 'NOERROR', answer: ['other.example. 300 IN A 10.9.9.9'] },
  ]);

  // Without fallthrough hosts takes every name in its zones, the cluster's too, as in CoreDNS.
  const strict = await serveCorefile(t, { Corefile: `.:0 {\n bind 127.0.0.1\n kubernetes cluster.local\n hosts {\n  10.77.0.2 pinned.example\n }\n}\n` });
  await checkRows(t, strict, [
    { name: 'hosts without fallthrough shadows the cluster zone', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NXDOMAIN', answer: [] },
  ]);
  // CoreDNS's cache stands before hosts: its TTL caps hosts's, in the cache's zones only.
  const cached = await serveCorefile(t, { Corefile: `.:0 {\n bind 127.0.0.1\n cache 30 cluster.local\n kubernetes cluster.local\n hosts {\n  10.77.0.1 svc1.testns.svc.cluster.local\n  10.77.0.2 pinned.example\n  ttl 60\n  fallthrough\n }\n}\n` });
  await checkRows(t, cached, [
    { name: 'hosts TTL 60 under cache 30: 30', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 30 IN A 10.77.0.1`] },
    { name: 'outside the cache zones: hosts TTL', qname: 'pinned.example.', qtype: 'A', rcode: 'NOERROR', answer: ['pinned.example. 60 IN A 10.77.0.2'] },
  ]);
  const narrow = await serveCorefile(t, { Corefile: `.:0 {\n bind 127.0.0.1\n kubernetes cluster.local\n hosts /nonexistent/netlet-hosts example {\n  10.77.0.2 pinned.example\n }\n}\n` });
  await checkRows(t, narrow, [
    { name: 'hosts for other zones leaves the cluster zone to kubernetes', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
  ]);
});
