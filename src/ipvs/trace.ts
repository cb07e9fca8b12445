// `netlet trace` in IPVS mode: where a new connection goes, read from the
// kernel's IPVS table (the virtual server its destination hits and the real
// servers that may take it) and the ipsets that decide masquerading.

import type { TraceReport, TraceRequest } from '../proxier/backend-kind.ts';
import { NetletError } from '../base/errors.ts';
import { openIpvs } from '../netlink/ipvs.ts';
import { destKey, serviceKey } from '../netlink/ipvs-codec.ts';
import { familyOf } from '../base/family.ts';
import type { IpvsState } from './table-diff.ts';
import { runTool } from '../base/run-tool.ts';
import { SET, setName } from './ipset-names.ts';

export interface IpvsTraceOutcome {
  virtualServer: string;
  scheduler: string;
  persistent: number;
  /** "ip:port" of each real server with a weight above 0. */
  realServers: string[];
  /** Real servers at weight 0: draining, no new connections. */
  draining: string[];
  verdict: 'load-balanced' | 'refused' | 'dropped' | 'not a service';
}

/**
 * The outcome for a packet against a table (pure, for tests). `noLocalEndpoints`:
 * the destination is in KUBE-NO-LOCAL-ENDPOINTS (dropped before IPVS sees it).
 */
export function traceTable(state: IpvsState, req: TraceRequest, noLocalEndpoints = false): IpvsTraceOutcome {
  const { packet } = req;
  const family = familyOf(packet.dst);
  if (family === 0) throw new NetletError('ERR_USAGE', `not an IP address: ${JSON.stringify(packet.dst)}`);
  const key = serviceKey({ family, protocol: packet.proto, address: packet.dst, port: packet.port });
  const vs = state.get(key);
  if (!vs) return { virtualServer: key, scheduler: '', persistent: 0, realServers: [], draining: [], verdict: 'not a service' };
  const dests = [...vs.dests.values()];
  const realServers = dests.filter((d) => d.weight > 0).map((d) => destKey(d)).sort();
  const draining = dests.filter((d) => d.weight === 0).map((d) => destKey(d)).sort();
  return {
    virtualServer: key,
    scheduler: vs.service.scheduler,
    persistent: vs.service.flags & 1 ? vs.service.timeout : 0,
    realServers,
    draining,
    verdict: noLocalEndpoints ? 'dropped' : realServers.length ? 'load-balanced' : 'refused',
  };
}

export function describeIpvsTrace(req: TraceRequest, o: IpvsTraceOutcome): string {
  const { packet } = req;
  const head = `${packet.src} -> ${packet.dst}:${packet.port}/${packet.proto}`;
  if (o.verdict === 'not a service') return `${head}: no IPVS virtual server ${o.virtualServer}; not a service (the host's own stack answers, or KUBE-IPVS-FILTER rejects it on a kube-ipvs0 address)`;
  const lines = [`${head}: IPVS virtual server ${o.virtualServer}, scheduler ${o.scheduler}${o.persistent ? `, persistent ${o.persistent}s (ClientIP affinity)` : ''}`];
  if (o.verdict === 'dropped') lines.push('  Local traffic policy and no endpoint on this node: dropped (KUBE-NO-LOCAL-ENDPOINTS)');
  else if (o.verdict === 'refused') lines.push('  no real server: the connection is refused');
  else lines.push(`  one of ${o.realServers.length} real server(s), masqueraded to the pod: ${o.realServers.join(', ')}`);
  if (o.draining.length) lines.push(`  draining (weight 0, existing connections only): ${o.draining.join(', ')}`);
  return lines.join('\n');
}

export async function traceIpvs(req: TraceRequest): Promise<TraceReport> {
  if (req.rulesText !== undefined) throw new NetletError('ERR_USAGE', 'IPVS mode traces the live table only; --from-file is not supported there');
  const table = await openIpvs();
  try {
    // The one virtual server the packet hits, not every one's real servers.
    const state: IpvsState = new Map();
    const p = req.packet;
    for (const service of await table.listServices()) {
      if (service.address !== p.dst || service.port !== p.port || service.protocol !== p.proto) continue;
      const dests = await table.listDests(service);
      state.set(serviceKey(service), { service, dests: new Map(dests.map((d) => [destKey(d), d])) });
    }
    const family = familyOf(p.dst) === 6 ? 6 : 4;
    // No ipset tool or no set: nothing is dropped there.
    const probe = await runTool('ipset', ['test', setName(SET.noLocalEndpoints, family), `${p.dst},${p.proto}:${p.port}`]).catch(() => ({ code: 1 }));
    const outcome = traceTable(state, req, state.size > 0 && probe.code === 0);
    return { outcomes: [outcome], describe: () => describeIpvsTrace(req, outcome) };
  } finally {
    table.close();
  }
}
