import type { ClientAddress, PacketHandler, Proto } from '../answer/handler.ts';
import { parseQuery } from '../wire/query.ts';

/** One server block's zones and the handler that answers for them. */
export interface BlockRoute {
  zones: readonly string[];
  handler: PacketHandler;
}

function within(name: string, zone: string): boolean {
  return zone === '.' || name === zone || name.endsWith(`.${zone}`);
}

/**
 * Several server blocks on one address: a query goes to the block with the
 * longest zone its name is in (CoreDNS's dnsserver does the same), and a
 * name in none of them to `refuse` (REFUSED, as CoreDNS answers). A packet
 * that holds no readable question goes to the first block, whose handler
 * answers FORMERR or NOTIMP or drops it. Only used when blocks share an
 * address: a lone block's handler is the server's own.
 */
export class ZoneDispatch implements PacketHandler {
  readonly #routes: Array<{ zone: string; handler: PacketHandler }>;
  readonly #first: PacketHandler;
  readonly #refuse: PacketHandler;
  readonly wantsClient: boolean;

  constructor(blocks: BlockRoute[], refuse: PacketHandler) {
    if (blocks.length === 0) throw new Error('a zone dispatch needs at least one block');
    this.#routes = blocks.flatMap((b) => b.zones.map((zone) => ({ zone, handler: b.handler })));
    // Longest first: the first match is the most specific zone.
    this.#routes.sort((a, b) => (b.zone === '.' ? 0 : b.zone.length) - (a.zone === '.' ? 0 : a.zone.length));
    this.#first = blocks[0].handler;
    this.#refuse = refuse;
    this.wantsClient = blocks.some((b) => b.handler.wantsClient);
  }

  /** The handler for a (lowercase, absolute) name. */
  handlerFor(name: string): PacketHandler {
    for (const r of this.#routes) if (within(name, r.zone)) return r.handler;
    return this.#refuse;
  }

  handle(packet: Buffer, proto: Proto, client?: ClientAddress): Buffer | null | Promise<Buffer | null> {
    const parsed = parseQuery(packet);
    if (parsed.kind !== 'query') return this.#first.handle(packet, proto, client);
    return this.handlerFor(parsed.query.name).handle(packet, proto, client);
  }
}
