import type { HostsForwarder } from '../hosts/hosts-forwarder.ts';
import { replyLimit } from './pipeline.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';

/**
 * `hosts` where plugin.cfg puts it, before `kubernetes`: a name in the
 * block's kubernetes zones that hosts takes (it has the name, or lacks it
 * without `fallthrough`) is answered from hosts. Names outside those zones
 * meet hosts in the forward chain as before, where it also sits in front
 * of forward.
 */
export class HostsFirstStep implements Step {
  readonly plugin = 'hosts';
  readonly #hosts: HostsForwarder;
  readonly #inKubernetesZones: (name: string) => boolean;

  constructor(hosts: HostsForwarder, inKubernetesZones: (name: string) => boolean) {
    this.#hosts = hosts;
    this.#inKubernetesZones = inKubernetesZones;
  }

  run(ask: Ask, next: Next): Reply {
    if (!this.#inKubernetesZones(ask.query.name)) return next(ask);
    return this.#hosts.answer(ask.packet, ask.query, replyLimit(ask)) ?? next(ask);
  }
}
