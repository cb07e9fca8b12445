// Two plans that claim one address, protocol and port (two Services with
// the same external or load balancer IP and port, or the same NodePort)
// would write one map key with two values, and the kernel refuses the whole
// transaction (`add element` of a key held with another value is EEXIST):
// one bad Service would stop every sync on the node. So the plan whose key
// sorts first keeps the address and the others are left out of the table,
// each named in a warning, as iptables' first matching rule would win.

import type { PlanSet, ServicePortPlan } from '../proxier/plan.ts';

/** The addresses a plan's map keys are made of. */
function claims(plan: ServicePortPlan): string[] {
  const out = [plan.clusterIP, ...plan.externalIPs, ...plan.loadBalancerIPs].map((ip) => `${ip} ${plan.protocol} ${plan.port}`);
  if (plan.nodePort !== 0) out.push(`nodePort ${plan.protocol} ${plan.nodePort}`);
  return out;
}

/** The plans left out, each with the address it lost and the plan that keeps it. */
export function contestedPlans(plans: PlanSet): Map<string, { address: string; keptBy: string }> {
  const owner = new Map<string, string>();
  const lost = new Map<string, { address: string; keptBy: string }>();
  for (const [key, plan] of plans) {
    for (const address of claims(plan)) {
      const other = owner.get(address);
      if (other === undefined) owner.set(address, key);
      else if (other !== key) {
        const [keep, drop] = other < key ? [other, key] : [key, other];
        owner.set(address, keep);
        if (!lost.has(drop)) lost.set(drop, { address, keptBy: keep });
      }
    }
  }
  return lost;
}
