// Two plans that claim one address, protocol and port (two Services with
// the same external or load balancer IP and port, or the same NodePort)
// would write one map key with two values, and the kernel refuses the whole
// transaction (`add element` of a key held with another value is EEXIST):
// one bad Service would stop every sync on the node. So the plan whose key
// sorts first keeps the address and the others are left out of the table,
// each named in a warning, as iptables' first matching rule would win.

import type { PlanSet, ServicePortPlan } from '../proxier/plan.ts';

const PROTOCOL_NUMBER = { tcp: 6, udp: 17, sctp: 132 } as const;
/** A NodePort's claim, in the address column (no IP address looks like it). */
const NODE_PORT = 'nodePort';

/**
 * The owner of each claim, by protocol and port (a number), then address:
 * the plans' address strings are hashed once (V8 keeps a string's hash), no
 * "address protocol port" string is made per claim: at 30k services those
 * were most of this check's cost in a full sync.
 */
type Owners = Map<number, Map<string, string>>;

/** The plans left out, each with the address it lost and the plan that keeps it. */
export function contestedPlans(plans: PlanSet): Map<string, { address: string; keptBy: string }> {
  const owners: Owners = new Map();
  const lost = new Map<string, { address: string; keptBy: string }>();
  const claim = (key: string, plan: ServicePortPlan, address: string, port: number) => {
    const protoPort = port * 256 + PROTOCOL_NUMBER[plan.protocol];
    let byAddress = owners.get(protoPort);
    if (!byAddress) owners.set(protoPort, (byAddress = new Map()));
    const other = byAddress.get(address);
    if (other === undefined) byAddress.set(address, key);
    else if (other !== key) {
      const [keep, drop] = other < key ? [other, key] : [key, other];
      byAddress.set(address, keep);
      if (!lost.has(drop)) lost.set(drop, { address: `${address} ${plan.protocol} ${port}`, keptBy: keep });
    }
  };
  for (const [key, plan] of plans) {
    claim(key, plan, plan.clusterIP, plan.port);
    for (const ip of plan.externalIPs) claim(key, plan, ip, plan.port);
    for (const ip of plan.loadBalancerIPs) claim(key, plan, ip, plan.port);
    if (plan.nodePort !== 0) claim(key, plan, NODE_PORT, plan.nodePort);
  }
  return lost;
}
