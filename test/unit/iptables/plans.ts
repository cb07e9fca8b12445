// Hand-built ServicePortPlans for the iptables tests (the proxier's plan
// builder is tested on its own; these tests cover rendering only).

import type { PlanEndpoint, PlanSet, ServicePortPlan } from '../../../src/proxier/plan.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import { planDecisions } from '../../../src/proxier/plan-builder.ts';

export function ep(ip: string, port: number, over: Partial<PlanEndpoint> = {}): PlanEndpoint {
  return { ip, port, isLocal: false, ready: true, serving: true, terminating: false, nodeName: 'node2', zone: '', ...over };
}

export function plan(ns: string, name: string, over: Partial<ServicePortPlan> = {}): ServicePortPlan {
  const portName = over.portName ?? 'http';
  const p: ServicePortPlan = {
    servicePortName: portName ? `${ns}/${name}:${portName}` : `${ns}/${name}`,
    namespace: ns,
    name,
    portName,
    protocol: 'tcp',
    family: 4,
    clusterIP: '10.96.0.10',
    port: 80,
    nodePort: 0,
    externalIPs: [],
    loadBalancerIPs: [],
    loadBalancerSourceRanges: [],
    loadBalancerSourceRangesIncludeNode: false,
    healthCheckNodePort: 0,
    affinityTimeoutSeconds: 0,
    // Made from the other fields below, as the plan builder makes them.
    externallyAccessible: false,
    noEndpoints: { internal: 'reject', external: 'none' },
    externalEntry: false,
    firewall: false,
    internalTraffic: 'cluster',
    externalTraffic: 'cluster',
    allEndpoints: [],
    clusterEndpoints: [],
    localEndpoints: [],
    hasAnyEndpoints: false,
    masqueradeAll: false,
    clusterCIDRs: ['10.244.0.0/16'],
    ...over,
  };
  // Endpoints in either list are usable; a test gives hasAnyEndpoints only for endpoints elsewhere.
  if (over.hasAnyEndpoints === undefined) p.hasAnyEndpoints = p.clusterEndpoints.length > 0 || p.localEndpoints.length > 0;
  // Keep allEndpoints the union when a test gives only the policy lists.
  if (!over.allEndpoints) {
    const all = new Map<string, PlanEndpoint>();
    for (const e of [...p.clusterEndpoints, ...p.localEndpoints]) all.set(`${e.ip}:${e.port}`, e);
    p.allEndpoints = [...all.values()];
  }
  // Decided from the facts as the plan builder decides, whatever `over` copied from another plan.
  return { ...p, ...planDecisions(p) };
}

export function planSet(...plans: ServicePortPlan[]): PlanSet {
  return new Map(plans.map((p) => [planKey(p), p]));
}
