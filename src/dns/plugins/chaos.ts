import { Rcode, RRType } from '../wire/constants.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';
import { replyWith, txtData, wireRecord } from './reply.ts';
import { hostname } from 'node:os';

const CH = 3;

/**
 * CoreDNS's `chaos`: TXT questions in class CH about the server —
 * version.bind and version.server (the version given), authors.bind (one
 * TXT per author), hostname.bind and id.server (this host's name).
 */
export class ChaosStep implements Step {
  readonly plugin = 'chaos';
  readonly #version: string;
  readonly #authors: string[];

  constructor(version: string, authors: string[]) {
    this.#version = version;
    this.#authors = authors;
  }

  run(ask: Ask, next: Next): Reply {
    const q = ask.query;
    if (q.qclass !== CH || q.qtype !== RRType.TXT) return next(ask);
    const txt = (...texts: string[]) => texts.map((t) => wireRecord(q.name, RRType.TXT, 0, [txtData(t)], CH));
    switch (q.name) {
      case 'version.bind.':
      case 'version.server.':
        return replyWith(ask, { rcode: Rcode.NOERROR, authoritative: true, answer: txt(this.#version) });
      case 'authors.bind.':
        return replyWith(ask, { rcode: Rcode.NOERROR, authoritative: true, answer: txt(...this.#authors) });
      case 'hostname.bind.':
      case 'id.server.':
        return replyWith(ask, { rcode: Rcode.NOERROR, authoritative: true, answer: txt(hostname()) });
      default:
        return next(ask);
    }
  }
}
