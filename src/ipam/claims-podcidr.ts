// flannel/kube-router style: the node's addresses come from its
// spec.podCIDRs, assigned by the controller manager (--allocate-node-cidrs).
// Nothing is claimed or released; each podCIDR is one fixed block.

import type { BlockClaims, ClaimedBlock } from './claims.ts';

export const PODCIDR_POOL = 'podCIDR';

export class PodCidrClaims implements BlockClaims {
  readonly kind = 'podCIDR';
  readonly fixed = true;
  readonly #source: () => Promise<string[]>;

  /** `source` gives the node's podCIDRs (from the config, or read from the Node object). */
  constructor(source: () => Promise<string[]>) {
    this.#source = source;
  }

  async owned(): Promise<ClaimedBlock[]> {
    return (await this.#source()).map((cidr) => ({ cidr, pool: PODCIDR_POOL }));
  }

  async claim(): Promise<ClaimedBlock | null> {
    return null;
  }

  async reclaim(): Promise<'ours'> {
    return 'ours';
  }

  async release(): Promise<boolean> {
    return false;
  }
}
