import type { ClientAddress, Observation, PacketHandler, Proto } from '../answer/handler.ts';
import { queryLogLine } from '../answer/query-log.ts';
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
  /** Shared by every ask made from one query (steps copy asks with spread): set once the handler has it, which then counts it. */
  trace?: { reachedHandler: boolean };
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
  readonly #observe: ((o: Observation) => void) | null;
  /** `log`: a query a step answers gets its log line too, as the handler writes one for the rest. */
  readonly #queryLog: boolean;

  /**
   * `steps` in the order a query meets them (plugin-order.ts). `observe`:
   * the metrics hook, for the queries a step answers itself (the handler
   * counts the ones that reach it), so every query is counted, as in CoreDNS.
   */
  constructor(steps: readonly Step[], inner: PacketHandler, observe?: (o: Observation) => void, queryLog = false) {
    this.#inner = inner;
    this.#steps = steps;
    this.#observe = observe ?? null;
    this.#queryLog = queryLog && this.#observe !== null;
    this.wantsClient = this.#queryLog || inner.wantsClient || steps.some((s) => s.wantsClient);
    let next: Next = (a) => {
      if (a.trace) a.trace.reachedHandler = true;
      return inner.handle(a.packet, a.proto, a.client);
    };
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
    if (!this.#observe) return this.#first({ packet: Buffer.from(packet), query: parsed.query, proto, client });
    const start = performance.now();
    const trace = { reachedHandler: false };
    const q = parsed.query;
    const count = (reply: Buffer | null): Buffer | null => {
      if (!trace.reachedHandler && reply && reply.length >= 4) {
        const rcode = reply[3] & 0x0f;
        const durationMs = performance.now() - start;
        const o: Observation = { zone: '.', name: q.name, qtype: q.qtype, rcode, durationMs, proto, fromCache: false, forwarded: false };
        if (this.#queryLog && client) {
          o.logLine = queryLogLine({ client: client.address(), query: q, querySize: packet.length, proto, rcode, reply, durationMs });
          o.ancount = reply.length >= 8 ? reply.readUInt16BE(6) : 0;
        }
        this.#observe!(o);
      }
      return reply;
    };
    const reply = this.#first({ packet: Buffer.from(packet), query: q, proto, client, trace });
    return reply instanceof Promise ? reply.then(count) : count(reply);
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
