// Test helper: serve a Corefile (written to its own temp folder, so that
// imports resolve beside it) through the DNS component over the fixture
// cluster, and ask it over UDP or TCP on loopback; replies come back as
// zone-file text (dns-helpers.ts).
import type { Test } from 'tap';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { DnsComponent } from '../../../src/dns/component.ts';
import { decodeReply, query, syncedStore } from './dns-helpers.ts';
import type { QueryOptions, Reply } from './dns-helpers.ts';
import { clusterObjects } from './fixture.ts';
import type { ObjectStore } from '../../../src/k8s/store.ts';

/** Writes `files` (relative path → text) into a fresh temp folder; returns the folder. */
export async function filesIn(t: Test, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-corefile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

export interface ServedCorefile {
  /** Log lines the component wrote, as objects. */
  lines: Array<Record<string, unknown>>;
  /** The first bound port (the first block's). */
  port: number;
}

/** Serves `Corefile` from `files` until the test ends. */
export async function serveCorefile(t: Test, files: Record<string, string>, opts: { store?: ObjectStore } = {}): Promise<ServedCorefile> {
  const dir = await filesIn(t, files);
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const dns = new DnsComponent({ log: pino({ level: 'info' }, sink), metrics: new Registry(), store: opts.store ?? syncedStore(clusterObjects()), nodeName: 'n1' }, { corefile: join(dir, 'Corefile') });
  await dns.start();
  t.teardown(() => dns.stop());
  const serving = lines.find((l) => l.msg === 'cluster DNS serving');
  const port = ((serving?.listen as Array<{ port: number }>) ?? [])[0]?.port ?? 0;
  return { lines, port };
}

/** One query to 127.0.0.1:port over UDP or TCP. */
export async function askAt(port: number, name: string, qtype: string, proto: 'udp' | 'tcp' = 'udp', opts: QueryOptions = {}): Promise<Reply> {
  const packet = query(name, qtype, opts);
  if (proto === 'tcp') return decodeReply(await overTcp(port, packet));
  const sock = dgram.createSocket('udp4');
  try {
    return await new Promise<Reply>((resolve, reject) => {
      sock.once('message', (m) => resolve(decodeReply(m)));
      sock.once('error', reject);
      sock.send(packet, port, '127.0.0.1');
      setTimeout(() => reject(new Error(`no reply for ${name} ${qtype} on port ${port}`)), 3000).unref();
    });
  } finally {
    sock.close();
  }
}

function overTcp(port: number, packet: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    c.on('connect', () => c.write(Buffer.concat([Buffer.from([packet.length >> 8, packet.length & 0xff]), packet])));
    c.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        c.destroy();
        resolve(got.subarray(2, 2 + got.readUInt16BE(0)));
      }
    });
    c.on('error', reject);
    setTimeout(() => {
      c.destroy();
      reject(new Error('no TCP reply'));
    }, 3000).unref();
  });
}

/** A table row: a query and what must come back. */
export interface AnswerRow {
  name: string;
  qname: string;
  qtype: string;
  /** Port to ask; default the first block's. */
  port?: number;
  rcode: string;
  answer?: string[];
  additional?: string[];
  /** Sent with an OPT of this UDP size. */
  udpSize?: number;
  qclass?: number;
  /** The reply's OPT UDP size. */
  optSize?: number;
  /** The reply's Extended DNS Errors as "CODE text". */
  ede?: string[];
  /** Over this transport only; default both. */
  proto?: 'udp' | 'tcp';
}

/** Asks each row over UDP and TCP; a failing row names itself and the transport. */
export async function checkRows(t: Test, served: { port: number }, rows: AnswerRow[]): Promise<void> {
  for (const r of rows) {
    for (const proto of r.proto ? [r.proto] : (['udp', 'tcp'] as const)) {
      const reply = await askAt(r.port ?? served.port, r.qname, r.qtype, proto, { udpSize: r.udpSize, qclass: r.qclass });
      t.equal(reply.rcode, r.rcode, `${r.name} (${proto}): rcode`);
      if (r.answer) t.strictSame(reply.answer, r.answer, `${r.name} (${proto}): answer`);
      if (r.additional) t.strictSame(reply.additional, r.additional, `${r.name} (${proto}): additional`);
      if (r.optSize !== undefined) t.equal(reply.optSize, r.optSize, `${r.name} (${proto}): OPT size`);
      if (r.ede) t.strictSame(reply.ede, r.ede, `${r.name} (${proto}): extended DNS errors`);
    }
  }
}
