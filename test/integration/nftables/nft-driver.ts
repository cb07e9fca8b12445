// The test side of driver.ts: an nftables backend process in the node
// namespace of the iptables suite's topology (../iptables/topology.ts).

import type { Topology } from '../iptables/topology.ts';
import { BackendDriver } from '../proxier/backend-driver.ts';

export class NftDriver extends BackendDriver {
  constructor(topo: Topology, family: 4 | 6 = 4) {
    super(topo, new URL('./driver.ts', import.meta.url), [String(family)]);
  }
}
