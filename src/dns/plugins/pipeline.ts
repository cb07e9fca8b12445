import type { ClientAddress, PacketHandler, Proto } from '../answer/handler.ts';
import { parseQuery } from '../wire/query.ts';
import type { Query } from '../wire/query.ts';

// The plugins that stand in front of a block's kubernetes answers and
// forwarding (acl, chaos, rewrite, template, file…), each a step that
// answers a query itself or hands it on, possibly changed, and may change
// the reply that comes back: CoreDNS's plugin chain, for the plugins
// netlet's handler does not hold. A block with none of them has no
// pipeline: its handler serves directly.

/** A query on its way through the steps. */
export interface Ask {
  packet: Buffer;
  query: Query;
  proto: Proto;
  client?: ClientAddress;
}

export type Reply = Buffer | null | Promise<Buffer | null>;
export type Next = (ask: Ask) => Reply;

export interface Step {
  /** The plugin's name, for `netlet dns --check` and errors. */
  readonly plugin: string;
  /** True when the step reads the client's address (acl, whoami). */
  readonly wantsClient?: boolean;
  run(ask: Ask, next: Next): Reply;
  /** Ends the step's timers (a zone file's reload); optional. */
  stop?(): void;
}

export class BlockPipeline implements PacketHandler {
  readonly wantsClient: boolean;
  readonly #inner: PacketHandler;
  readonly #first: Next;
  readonly #steps: readonly Step[];

  /** `steps` in the order a query meets them (plugin-order.ts). */
  constructor(steps: readonly Step[], inner: PacketHandler) {
    this.#inner = inner;
    this.#steps = steps;
    this.wantsClient = inner.wantsClient || steps.some((s) => s.wantsClient);
    let next: Next = (a) => inner.handle(a.packet, a.proto, a.client);
    for (let i = steps.length - 1; i >= 0; i--) {
      const step = steps[i];
      const after = next;
      next = (a) => step.run(a, after);
    }
    this.#first = next;
  }

  stop(): void {
    for (const s of this.#steps) s.stop?.();
  }

  handle(packet: Buffer, proto: Proto, client?: ClientAddress): Reply {
    const parsed = parseQuery(packet);
    // What cannot be read as a question gets the handler's FORMERR, NOTIMP or silence.
    if (parsed.kind !== 'query') return this.#inner.handle(packet, proto, client);
    // The receive buffer is reused once this returns: a step that waits needs its own copy.
    return this.#first({ packet: Buffer.from(packet), query: parsed.query, proto, client });
  }
}

/** The most a reply to this ask may hold (RFC 1035 §4.2.1, RFC 6891 §6.2.3). */
export function replyLimit(ask: Ask): number {
  if (ask.proto === 'tcp') return 65535;
  return ask.query.edns ? Math.max(512, ask.query.edns.udpSize) : 512;
}

/** The client's IP address, without the port. */
export function clientIp(ask: Ask): string {
  const a = ask.client?.address() ?? '';
  const m = /^\[(.*)\]:\d+$/.exec(a) ?? /^(.*):\d+$/.exec(a);
  return m ? m[1] : a;
}
