// A small upstream DNS server for the forwarder's unit tests: answers every
// A question with its own address on UDP and TCP, and can be told to drop
// everything, truncate UDP replies, or hold replies back.
import dgram from 'node:dgram';
import net from 'node:net';
import { rr } from '../../../src/dns/wire/records.ts';
import { Rcode } from '../../../src/dns/wire/constants.ts';
import { parseQuery } from '../../../src/dns/wire/query.ts';
import { encodeMessage } from '../../../src/dns/wire/writer.ts';

export type UpstreamMode = 'answer' | 'drop' | 'truncate-udp';

export class FakeUpstream {
  mode: UpstreamMode = 'answer';
  /** The rcode of every reply (an answer is given only with NOERROR). */
  rcode: number = Rcode.NOERROR;
  /** Delay before each reply (ms). */
  delayMs = 0;
  readonly answerAddress: string;
  readonly seen: Array<{ proto: 'udp' | 'tcp'; name: string; id: number }> = [];
  /** Every query as it arrived. */
  readonly packets: Buffer[] = [];
  #udp = dgram.createSocket('udp4');
  #tcp = net.createServer();
  port = 0;

  constructor(answerAddress: string) {
    this.answerAddress = answerAddress;
  }

  get label(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    // UDP and TCP on the same port: the UDP socket picks a free one, which
    // another test may hold on TCP (tests run in parallel); then pick again.
    for (let attempt = 1; ; attempt++) {
      await new Promise<void>((r) => this.#udp.bind(0, '127.0.0.1', () => r()));
      this.port = this.#udp.address().port;
      const listening = await new Promise<boolean>((resolve, reject) => {
        const failed = (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' && attempt < 20 ? resolve(false) : reject(err));
        this.#tcp.once('error', failed);
        this.#tcp.listen(this.port, '127.0.0.1', () => {
          this.#tcp.off('error', failed);
          resolve(true);
        });
      });
      if (listening) break;
      await new Promise<void>((r) => this.#udp.close(() => r()));
      this.#udp = dgram.createSocket('udp4');
    }
    this.#udp.on('message', (msg, rinfo) => {
      const reply = this.#answer(msg, 'udp');
      if (reply) setTimeout(() => this.#udp.send(reply, rinfo.port, rinfo.address), this.delayMs);
    });
    this.#tcp.on('connection', (c) => {
      let buf = Buffer.alloc(0);
      c.on('error', () => {});
      c.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        const reply = this.#answer(buf.subarray(2, 2 + buf.readUInt16BE(0)), 'tcp');
        if (!reply) return;
        const frame = Buffer.alloc(2 + reply.length);
        frame.writeUInt16BE(reply.length, 0);
        reply.copy(frame, 2);
        c.end(frame);
      });
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.#udp.close(() => r()));
    await new Promise<void>((r) => this.#tcp.close(() => r()));
  }

  #answer(msg: Buffer, proto: 'udp' | 'tcp'): Buffer | null {
    const p = parseQuery(msg);
    if (p.kind !== 'query') return null;
    const q = p.query;
    this.seen.push({ proto, name: q.name, id: q.id });
    this.packets.push(Buffer.from(msg));
    if (this.mode === 'drop') return null;
    const truncated = this.mode === 'truncate-udp' && proto === 'udp';
    const m = encodeMessage({
      id: q.id, queryFlags: q.flags, question: msg.subarray(12, q.questionEnd), qname: q.name, rcode: this.rcode, authoritative: false, recursionAvailable: true,
      answer: truncated || q.qtype !== 1 || this.rcode !== Rcode.NOERROR ? [] : [rr.a(q.name, 300, this.answerAddress)], authority: [], additional: [],
    });
    const out = Buffer.from(m.bytes);
    if (truncated) out.writeUInt16BE(out.readUInt16BE(2) | 0x0200, 2);
    return out;
  }
}
