// The fixed part of kube-proxy's layout: the top-level chains' own rules and
// the jumps from the built-in chains. The jumps are not written by the restore
// (that would need every rule of PREROUTING, INPUT, …, which are not ours):
// a full sync checks them in iptables-save output and inserts the missing ones.

import { assertRuleAddresses } from './rule-text.ts';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from './chain-names.ts';
import { hostLoopback } from './render-context.ts';
import type { RenderContext } from './render-context.ts';

export type TableName = 'nat' | 'filter';

export interface JumpRule {
  table: TableName;
  /** Built-in chain the jump sits in. */
  from: string;
  to: string;
  comment: string;
  /** Matches before the comment, e.g. conntrack state NEW. */
  extra: string;
}

const NEW = '-m conntrack --ctstate NEW';

/**
 * kube-proxy's jump list (iptablesJumpChains). kube-proxy prepends each with
 * `iptables -I`, so the last of a built-in chain's entries ends up first; the
 * order here is the order they are found in the chain afterwards.
 */
export const JUMP_RULES: readonly JumpRule[] = [
  { table: 'filter', from: 'INPUT', to: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', from: 'INPUT', to: KUBE_NODEPORTS, comment: 'kubernetes health check service ports', extra: '' },
  { table: 'filter', from: 'INPUT', to: KUBE_EXTERNAL_SERVICES, comment: 'kubernetes externally-visible service portals', extra: NEW },
  { table: 'filter', from: 'FORWARD', to: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', from: 'FORWARD', to: KUBE_FORWARD, comment: 'kubernetes forwarding rules', extra: '' },
  { table: 'filter', from: 'FORWARD', to: KUBE_SERVICES, comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', from: 'FORWARD', to: KUBE_EXTERNAL_SERVICES, comment: 'kubernetes externally-visible service portals', extra: NEW },
  { table: 'filter', from: 'OUTPUT', to: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', from: 'OUTPUT', to: KUBE_SERVICES, comment: 'kubernetes service portals', extra: NEW },
  { table: 'nat', from: 'PREROUTING', to: KUBE_SERVICES, comment: 'kubernetes service portals', extra: '' },
  { table: 'nat', from: 'OUTPUT', to: KUBE_SERVICES, comment: 'kubernetes service portals', extra: '' },
  { table: 'nat', from: 'POSTROUTING', to: KUBE_POSTROUTING, comment: 'kubernetes postrouting rules', extra: '' },
];

export function jumpRuleSpec(j: JumpRule): string {
  return `${j.extra ? `${j.extra} ` : ''}-m comment --comment "${j.comment}" -j ${j.to}`;
}

/**
 * The jumps missing from `builtinRules` (the `-A <builtin> …` lines of
 * iptables-save), as `-I` lines that put them at the top of their chain in
 * kube-proxy's order. A jump counts as present when a rule in the same chain
 * jumps to the same target with the same comment. `jumps`: another mode's
 * list (the IPVS mode's, ipvs/iptables-rules.ts).
 */
export function missingJumps(table: TableName, builtinRules: readonly string[], jumps: readonly JumpRule[] = JUMP_RULES): string[] {
  const missing = jumps.filter((j) => j.table === table).filter(
    (j) => !builtinRules.some((r) => r.startsWith(`-A ${j.from} `) && r.includes(`"${j.comment}"`) && r.endsWith(`-j ${j.to}`)),
  );
  // Inserting at position 1 in reverse order leaves them in list order.
  return missing.reverse().map((j) => `-I ${j.from} 1 ${jumpRuleSpec(j)}`);
}

export function natFixedRules(ctx: RenderContext): string[] {
  const m = ctx.masqMark;
  return [
    `-A ${KUBE_POSTROUTING} -m mark ! --mark ${m}/${m} -j RETURN`,
    // Clear the mark so a packet that goes through the stack again is not masqueraded twice.
    `-A ${KUBE_POSTROUTING} -j MARK --xor-mark ${m}`,
    `-A ${KUBE_POSTROUTING} -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
    `-A ${KUBE_MARK_MASQ} -j MARK --or-mark ${m}`,
  ];
}

/**
 * The last rules of nat KUBE-SERVICES: hand local destinations to
 * KUBE-NODEPORTS. netlet does not offer NodePorts on localhost (kube-proxy's
 * localhostNodePorts needs route_localnet=1, a known hole, kubernetes#90259),
 * so loopback is excluded as kube-proxy does with that option off.
 */
export function nodePortsDispatch(ctx: RenderContext): string[] {
  assertRuleAddresses('nodePortAddresses', ctx.nodePortAddresses);
  const comment = '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
  if (ctx.nodePortAddresses.length === 0) {
    return [`-A ${KUBE_SERVICES} ${comment} -m addrtype --dst-type LOCAL ! -d ${hostLoopback(ctx.family)} -j ${KUBE_NODEPORTS}`];
  }
  return ctx.nodePortAddresses.map((ip) => `-A ${KUBE_SERVICES} ${comment} -d ${ip} -j ${KUBE_NODEPORTS}`);
}

export function filterForwardRules(ctx: RenderContext): string[] {
  const m = ctx.masqMark;
  const rules: string[] = [];
  // Without be_liberal, an out-of-window packet is INVALID, skips the DNAT
  // reversal and resets the connection (kubernetes#74839): drop it instead.
  if (!ctx.tcpBeLiberal) rules.push(`-A ${KUBE_FORWARD} -m conntrack --ctstate INVALID -j DROP`);
  rules.push(`-A ${KUBE_FORWARD} -m comment --comment "kubernetes forwarding rules" -m mark --mark ${m}/${m} -j ACCEPT`);
  rules.push(`-A ${KUBE_FORWARD} -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  return rules;
}
