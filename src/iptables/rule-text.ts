// What of a plan may be written into iptables-restore input. The input is
// line-based and iptables-restore splits a line at spaces outside double
// quotes, so one newline, quote or backslash in a name wrote its own lines
// (issue 13: a Service name added an ACCEPT rule to filter INPUT). Objects
// are validated at conversion (src/k8s/convert/); this is the renderer's own
// check, so that no string reaches the rule text unchecked whatever path a
// plan came by: a plan that breaks it is refused by name before any of its
// text is written.

import { NetletError } from '../base/errors.ts';
import { planKey } from '../proxier/plan.ts';
import type { ServicePortPlan } from '../proxier/plan.ts';

/** A plan with a value that cannot be written into rule text; names the plan and the field. */
export class UnsafeRuleTextError extends NetletError {
  readonly planKey: string;
  readonly field: string;

  constructor(plan: ServicePortPlan, field: string, value: unknown) {
    const shown = JSON.stringify(typeof value === 'string' && value.length > 64 ? `${value.slice(0, 64)}…` : value) ?? String(value);
    super('ERR_UNSAFE_RULE_TEXT', `service port ${JSON.stringify(planKey(plan))}: ${field} ${shown} cannot be written into iptables rules`);
    this.planKey = planKey(plan);
    this.field = field;
  }
}

/**
 * "namespace/name:port" from names the API allows: letters, digits, '-',
 * '.', '/', ':' only, so it sits safely inside a quoted comment or stands
 * alone as one. 200 keeps the longest comment it is part of under
 * xt_comment's 256 characters (API names make at most 191).
 */
const SERVICE_PORT_NAME = /^[A-Za-z0-9][-A-Za-z0-9._/:]{0,199}$/;
/** An address or CIDR as iptables reads it: hex digits, '.', ':' and a prefix length. */
const ADDRESS = /^[0-9A-Fa-f.:]{2,45}(\/\d{1,3})?$/;
const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

const isPort = (n: unknown, min: number): boolean => Number.isInteger(n) && (n as number) >= min && (n as number) <= 65535;

/**
 * Node addresses (from the Node object or config) that go into the fixed
 * rules: checked as a plan's are. Not any plan's, so a bad one fails the
 * sync as a whole (with ERR_UNSAFE_RULE_TEXT naming it) rather than being left out.
 */
export function assertRuleAddresses(field: string, addresses: readonly string[]): void {
  for (let i = 0; i < addresses.length; i++) {
    if (!ADDRESS.test(addresses[i])) {
      throw new NetletError('ERR_UNSAFE_RULE_TEXT', `${field}[${i}] ${JSON.stringify(String(addresses[i]).slice(0, 64))} cannot be written into iptables rules`);
    }
  }
}

/** One address list of a plan; runs for every plan a sync renders, so it builds nothing. */
function checkAddresses(plan: ServicePortPlan, field: string, list: readonly string[]): void {
  for (let i = 0; i < list.length; i++) if (!ADDRESS.test(list[i])) throw new UnsafeRuleTextError(plan, `${field}[${i}]`, list[i]);
}

/** Throws UnsafeRuleTextError when a string or number of `plan` could not be written safely. */
export function assertRuleSafe(plan: ServicePortPlan): void {
  const refuse = (field: string, value: unknown): never => {
    throw new UnsafeRuleTextError(plan, field, value);
  };
  if (typeof plan.servicePortName !== 'string' || !SERVICE_PORT_NAME.test(plan.servicePortName)) refuse('servicePortName', plan.servicePortName);
  if (!PROTOCOLS.has(plan.protocol)) refuse('protocol', plan.protocol);
  if (!ADDRESS.test(plan.clusterIP)) refuse('clusterIP', plan.clusterIP);
  if (!isPort(plan.port, 1)) refuse('port', plan.port);
  if (!isPort(plan.nodePort, 0)) refuse('nodePort', plan.nodePort);
  if (!isPort(plan.healthCheckNodePort, 0)) refuse('healthCheckNodePort', plan.healthCheckNodePort);
  if (!Number.isInteger(plan.affinityTimeoutSeconds) || plan.affinityTimeoutSeconds < 0) refuse('affinityTimeoutSeconds', plan.affinityTimeoutSeconds);
  checkAddresses(plan, 'externalIPs', plan.externalIPs);
  checkAddresses(plan, 'loadBalancerIPs', plan.loadBalancerIPs);
  checkAddresses(plan, 'loadBalancerSourceRanges', plan.loadBalancerSourceRanges);
  checkAddresses(plan, 'clusterCIDRs', plan.clusterCIDRs);
  const endpoints = plan.allEndpoints;
  for (let i = 0; i < endpoints.length; i++) {
    if (!ADDRESS.test(endpoints[i].ip)) refuse(`endpoints[${i}].ip`, endpoints[i].ip);
    if (!isPort(endpoints[i].port, 1)) refuse(`endpoints[${i}].port`, endpoints[i].port);
  }
}
