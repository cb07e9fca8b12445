// This node's addresses as the IPVS mode needs them: where NodePort virtual
// servers go, and which addresses already sit on an interface (an external
// IP found there is not bound to kube-ipvs0 again).

import { networkInterfaces } from 'node:os';
import type { Family } from '../base/family.ts';
import type { NodeAddresses } from './backend.ts';
import { DUMMY_DEVICE } from './dummy-device.ts';

/** Node addresses by interface: NodePorts go on every address but loopback and kube-ipvs0's, as kube-proxy binds them. */
export function nodeAddresses(family: Family): NodeAddresses {
  const nodeIPs: string[] = [];
  const local = new Set<string>();
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (name === DUMMY_DEVICE) continue;
    for (const a of list ?? []) {
      if (a.address.includes('%')) continue;
      local.add(a.address);
      if ((a.family === 'IPv6' ? 6 : 4) !== family || a.internal) continue;
      if (family === 6 && a.address.toLowerCase().startsWith('fe80:')) continue;
      nodeIPs.push(a.address);
    }
  }
  return { nodeIPs: nodeIPs.sort(), local };
}

