// forward to tls:// upstreams (DNS over TLS, RFC 7858): a local TLS DNS
// server with a certificate made for the test by openssl, checked against
// the `tls` CA and `tls_servername`.
import t from 'tap';
import type { Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { defaultForwardOptions } from '../../../src/dns/forward/options.ts';
import type { ForwardTls } from '../../../src/dns/forward/options.ts';
import { UpstreamForwarder } from '../../../src/dns/forward/upstream-forwarder.ts';
import { parseUpstreamAddress } from '../../../src/dns/forward/upstream-list.ts';
import { buildQuery, readAnswerAddresses } from '../../../src/dns/wire/answer-reader.ts';
import { rr } from '../../../src/dns/wire/records.ts';
import { Rcode } from '../../../src/dns/wire/constants.ts';
import { parseQuery } from '../../../src/dns/wire/query.ts';
import { encodeMessage } from '../../../src/dns/wire/writer.ts';
import { checkRows, filesIn, serveCorefile } from './corefile-server.ts';

/** A self-signed certificate for dns.test and 127.0.0.1, which is also its own CA. */
async function certificate(t: Test): Promise<{ cert: string; key: string }> {
  const dir = await filesIn(t, {});
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-keyout', key, '-out', cert, '-subj', '/CN=dns.test', '-addext', 'subjectAltName=DNS:dns.test,IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

/** A DNS-over-TLS server answering every A question with 192.0.2.53; returns its port. */
async function tlsUpstream(t: Test, files: { cert: string; key: string }): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = tls.createServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (c) => {
    let buf = Buffer.alloc(0);
    c.on('error', () => {});
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
      const p = parseQuery(msg);
      if (p.kind !== 'query') return c.destroy();
      seen.push(p.query.name);
      const m = encodeMessage({
        id: p.query.id, queryFlags: p.query.flags, question: msg.subarray(12, p.query.questionEnd), qname: p.query.name, rcode: Rcode.NOERROR,
        authoritative: false, recursionAvailable: true, answer: [rr.a(p.query.name, 300, '192.0.2.53')], authority: [], additional: [],
      });
      const frame = Buffer.alloc(2 + m.bytes.length);
      frame.writeUInt16BE(m.bytes.length, 0);
      Buffer.from(m.bytes).copy(frame, 2);
      c.end(frame);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, seen };
}

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

t.test('tls:// addresses: port 853 unless given', async (t) => {
  t.strictSame(parseUpstreamAddress('tls://9.9.9.9'), { host: '9.9.9.9', port: 853, label: '9.9.9.9:853', tls: true });
  t.strictSame(parseUpstreamAddress('tls://[::1]:8853'), { host: '::1', port: 8853, label: '[::1]:8853', tls: true });
});

t.test('queries go over TLS; the certificate is checked against the CA and the server name', { skip: !hasOpenssl && 'no openssl' }, async (t) => {
  const files = await certificate(t);
  const up = await tlsUpstream(t, files);
  const ask = async (tlsOpts: ForwardTls, name: string) => {
    const f = new UpstreamForwarder([parseUpstreamAddress(`tls://127.0.0.1:${up.port}`)!], { ...defaultForwardOptions(), timeoutMs: 1000, maxFails: 0, tls: tlsOpts });
    t.teardown(() => f.stop());
    const reply = await f.forward(buildQuery(7, name, 1), 'udp');
    return reply ? readAnswerAddresses(reply)?.records.map((r) => (r.data as { address: string }).address) : null;
  };
  t.strictSame(await ask({ ca: files.cert, serverName: 'dns.test' }, 'a.example.'), ['192.0.2.53'], 'tls CA + tls_servername: a UDP client is answered over TLS');
  t.strictSame(await ask({ ca: files.cert }, 'b.example.'), ['192.0.2.53'], 'no tls_servername: checked against the IP address');
  t.equal(await ask({ ca: files.cert, serverName: 'other.test' }, 'c.example.'), null, 'a certificate for another name: no reply');
  t.equal(await ask({}, 'd.example.'), null, 'not signed by a system CA: no reply');
  t.strictSame(up.seen, ['a.example.', 'b.example.'], 'the refused handshakes sent no query');
  t.throws(() => new UpstreamForwarder([parseUpstreamAddress('tls://127.0.0.1')!], { ...defaultForwardOptions(), tls: { ca: '/nonexistent/ca.pem' } }), /cannot read the CA \/nonexistent\/ca.pem/);
});

t.test('Corefile: forward . tls://… { tls CA; tls_servername }, asked over UDP and TCP', { skip: !hasOpenssl && 'no openssl' }, async (t) => {
  const files = await certificate(t);
  const up = await tlsUpstream(t, files);
  const served = await serveCorefile(t, {
    Corefile: `.:0 {\n bind 127.0.0.1\n forward . tls://127.0.0.1:${up.port} {\n  tls ${files.cert}\n  tls_servername dns.test\n }\n}\n`,
  });
  await checkRows(t, served, [{ name: 'forwarded over TLS', qname: 'www.example.com.', qtype: 'A', rcode: 'NOERROR', answer: ['www.example.com. 300 IN A 192.0.2.53'] }]);
});
