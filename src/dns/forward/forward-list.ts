import type { Forwarder } from './forwarder.ts';
import { questionOf, rcodeReply } from './message.ts';
import type { Question } from './message.ts';
import { Rcode } from '../wire/constants.ts';
import type { UpstreamForwarder } from './upstream-forwarder.ts';

/**
 * Several `forward` lines in one server block: a name goes to the first
 * whose FROM covers it and whose `except` does not, in the order they are
 * written (CoreDNS chains them in that order, each passing on what it does
 * not take). A name none takes is REFUSED, as one `forward` does.
 */
export class ForwardList implements Forwarder {
  readonly forwarders: UpstreamForwarder[];

  constructor(forwarders: UpstreamForwarder[]) {
    this.forwarders = forwarders;
  }

  forward(query: Buffer, proto: 'udp' | 'tcp' = 'udp', question: Question | null = questionOf(query)): Promise<Buffer | null> {
    if (!question) return Promise.resolve(null);
    return this.#from(0, query, proto, question);
  }

  /** The first forward from `i` on that takes the name; its `next RCODE…` replies go on to the following one. */
  #from(i: number, query: Buffer, proto: 'udp' | 'tcp', question: Question): Promise<Buffer | null> {
    for (let j = i; j < this.forwarders.length; j++) {
      const f = this.forwarders[j];
      if (!f.takes(question.name)) continue;
      const later = this.forwarders.slice(j + 1).some((g) => g.takes(question.name));
      const reply = f.forward(query, proto, question);
      // README next: with no forward after it, the reply stands (CoreDNS ignores `next` then).
      if (!later) return reply;
      return reply.then((r) => (r && f.passesOn(r) ? this.#from(j + 1, query, proto, question) : r));
    }
    return Promise.resolve(rcodeReply(query, question.questionEnd, Rcode.REFUSED));
  }

  stop(): void {
    for (const f of this.forwarders) f.stop();
  }
}
