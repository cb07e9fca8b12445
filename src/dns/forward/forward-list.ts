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
    for (const f of this.forwarders) if (f.takes(question.name)) return f.forward(query, proto, question);
    return Promise.resolve(rcodeReply(query, question.questionEnd, Rcode.REFUSED));
  }

  stop(): void {
    for (const f of this.forwarders) f.stop();
  }
}
