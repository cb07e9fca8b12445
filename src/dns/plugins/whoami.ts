import { isIPv4 } from 'node:net';
import { Rcode, RRType } from '../wire/constants.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';
import { clientIp } from './pipeline.ts';
import { replyWith, wireRecord } from './reply.ts';
import { ipv6Bytes } from '../wire/writer.ts';

/**
 * CoreDNS's `whoami`: the client's address (A or AAAA) and its port (an SRV
 * under _udp. or _tcp.) in the additional section, TTL 0. It stands last in
 * plugin.cfg, so it answers what the block's kubernetes and forward leave:
 * `takes(name)` says whether they would take a name.
 */
export class WhoamiStep implements Step {
  readonly plugin = 'whoami';
  readonly wantsClient = true;
  readonly #othersTake: (name: string) => boolean;

  constructor(othersTake: (name: string) => boolean) {
    this.#othersTake = othersTake;
  }

  run(ask: Ask, next: Next): Reply {
    if (this.#othersTake(ask.query.name)) return next(ask);
    const ip = clientIp(ask);
    const port = Number(/:(\d+)$/.exec(ask.client?.address() ?? '')?.[1] ?? 0);
    const owner = ask.query.name;
    const address = isIPv4(ip)
      ? wireRecord(owner, RRType.A, 0, [Buffer.from(ip.split('.').map(Number))])
      : wireRecord(owner, RRType.AAAA, 0, [Buffer.from(ipv6Bytes(ip))]);
    const srvFixed = Buffer.alloc(6);
    srvFixed.writeUInt16BE(port, 4);
    const srv = wireRecord(`_${ask.proto}.${owner}`, RRType.SRV, 0, [srvFixed, { name: '.' }]);
    return replyWith(ask, { rcode: Rcode.NOERROR, authoritative: true, additional: [address, srv] });
  }
}
