import dgram from 'node:dgram';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Forwarder } from './forwarder.ts';
import { buildQuery } from '../wire/answer-reader.ts';
import { parseQuery } from '../wire/query.ts';
import type { Question } from './message.ts';

/** RFC 1035 §3.2.2 */
const HINFO = 13;
/** CoreDNS loop: seen more than twice means a loop; probes every 2 s for up to 30 s. */
const MAX_SEEN = 2;
const PROBE_INTERVAL_MS = 2000;
const PROBE_WINDOW_MS = 30_000;

function randomLabel(): string {
  return String(Math.floor(Math.random() * 1e15)) + String(Math.floor(Math.random() * 1e4));
}

/**
 * CoreDNS's `loop` plugin: at start, send `<random>.<random>.<zone> HINFO`
 * to our own listen address. It reaches the forwarder (no cluster zone has
 * it), which passes it upstream; if an upstream sends it back to us (a
 * node's resolv.conf pointing at the cluster DNS itself, say), we see it
 * again and again. Seen more than twice: `onLoop` (the command halts the
 * process, as CoreDNS does). Once a probe gets any reply the check is over.
 */
export class LoopDetector implements Forwarder {
  readonly probeName: string;
  readonly #next: Forwarder | null;
  readonly #onLoop: (message: string) => void;
  #seen = 0;
  #done = false;
  #timer: NodeJS.Timeout | null = null;
  #sock: dgram.Socket | null = null;

  constructor(zone: string, next: Forwarder | null, onLoop: (message: string) => void) {
    this.probeName = `${randomLabel()}.${randomLabel()}.${zone === '.' ? '' : zone}`;
    this.#next = next;
    this.#onLoop = onLoop;
  }

  /** True once probing is over and no probe came back: queries need no look. */
  get quiet(): boolean {
    return this.#done && this.#seen === 0;
  }

  forward(query: Buffer, proto?: 'udp' | 'tcp', question?: Question | null): Promise<Buffer | null> {
    if (!this.#done || this.#seen > 0) {
      const p = parseQuery(query);
      if (p.kind === 'query' && p.query.qtype === HINFO && p.query.name === this.probeName && ++this.#seen > MAX_SEEN) {
        this.#onLoop(`Loop (${this.#seen} times) detected for "HINFO IN ${this.probeName}": an upstream sends our own queries back to us`);
        this.stop();
        return Promise.resolve(null);
      }
    }
    return this.#next ? this.#next.forward(query, proto, question) : Promise.resolve(null);
  }

  /** Starts probing our own first listen address (0.0.0.0 and :: mean loopback). */
  start(addresses: AddressInfo[]): void {
    const a = addresses[0];
    if (!a) return;
    const host = a.address === '0.0.0.0' ? '127.0.0.1' : a.address === '::' ? '::1' : a.address;
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    sock.on('error', () => {});
    sock.on('message', () => {
      // Any reply: the probe went through without looping; the check is over.
      this.#finish();
    });
    sock.unref();
    this.#sock = sock;
    const started = performance.now();
    const send = () => {
      if (this.#done) return;
      if (performance.now() - started > PROBE_WINDOW_MS) return this.#finish();
      sock.send(buildQuery((Math.random() * 0x10000) | 0, this.probeName, HINFO), a.port, host, () => {});
      this.#timer = setTimeout(send, PROBE_INTERVAL_MS);
      this.#timer.unref();
    };
    send();
  }

  stop(): void {
    this.#finish();
  }

  #finish(): void {
    this.#done = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#sock?.close();
    this.#sock = null;
  }
}
