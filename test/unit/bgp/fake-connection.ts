// A hand-driven connection for the state machine tests: the test opens it,
// feeds it bytes as the peer, closes it, and reads back what the session wrote.
import type { Connection, ConnectionHandlers, DialTarget, Dialer } from '../../../src/bgp/session/connection.ts';
import { MessageFramer } from '../../../src/bgp/wire/header.ts';
import { decodeMessage, type BgpMessage } from '../../../src/bgp/wire/messages.ts';

export class FakeConnection implements Connection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  #h?: ConnectionHandlers;
  #framer = new MessageFramer();
  /** Every message the session wrote, decoded. */
  readonly sent: BgpMessage[] = [];
  ended = false;

  constructor(target: DialTarget) {
    this.remoteAddress = target.host;
    this.remotePort = target.port;
  }

  localAddress(): string {
    return '10.0.0.1';
  }

  attach(h: ConnectionHandlers): void {
    this.#h = h;
  }

  write(bytes: Buffer): void {
    if (this.ended) throw new Error('write after end');
    for (const f of this.#framer.push(bytes)) this.sent.push(decodeMessage(f, { fourOctetAs: true }));
  }

  end(): void {
    this.ended = true;
  }

  /** The TCP handshake completed (outgoing connections). */
  open(): void {
    this.#h!.open();
  }

  /** Bytes from the peer. */
  receive(...messages: Buffer[]): void {
    for (const m of messages) this.#h!.data(m);
  }

  /** The peer reset or closed the connection. */
  drop(reason = 'connection reset by peer'): void {
    if (this.ended) return;
    this.ended = true;
    this.#h!.closed(reason);
  }

  /** The types of what the session wrote, in order ("notification 6/7" for NOTIFICATIONs). */
  types(): string[] {
    return this.sent.map((m) => (m.type === 'notification' ? `notification ${m.notification.code}/${m.notification.subcode}` : m.type));
  }
}

/** A dialer that hands out FakeConnections and remembers them. */
export function fakeDialer(): { dial: Dialer; dialled: FakeConnection[] } {
  const dialled: FakeConnection[] = [];
  return {
    dialled,
    dial: (target) => {
      const c = new FakeConnection(target);
      dialled.push(c);
      return c;
    },
  };
}
