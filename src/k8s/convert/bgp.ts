// netlet.io/v1 BGPConfiguration and BGPPeer → slim objects, with Calico's
// field names so an operator's Calico objects carry over by changing the
// apiVersion. Selectors are checked here so a bad one fails its own object,
// not the node's whole peer set later.

import { isIP } from 'node:net';
import { parseDuration } from '../../base/config-schema.ts';
import { parseCalicoSelector } from '../calico-selector.ts';
import type { BGPConfiguration, BGPPeer, BgpCidr } from '../objects.ts';
import { bool, cidr, describe, dnsSubdomain, fail, int, list, meta, record, string } from './fields.ts';
import type { Ctx, Raw } from './fields.ts';

const MAX_AS = 4294967295;

const CONFIGURATION_FIELDS = ['asNumber', 'nodeToNodeMeshEnabled', 'listenPort', 'serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'];
const PEER_FIELDS = ['peerIP', 'asNumber', 'node', 'nodeSelector', 'peerSelector', 'port', 'holdTime', 'keepaliveTime', 'gracefulRestart', 'nextHopSelf', 'sourceAddress', 'password'];

/** A Calico field netlet does not implement (maxRestartTime, filters, communities, ...) is refused by name, never ignored. */
function onlyKnown(ctx: Ctx, spec: Raw, known: readonly string[]): void {
  for (const k of Object.keys(spec)) {
    if (!known.includes(k)) fail(ctx, `spec.${k.length > 64 ? `${k.slice(0, 64)}…` : k}`, `not supported by netlet (it reads ${known.join(', ')})`);
  }
}

function cidrs(ctx: Ctx, v: unknown, field: string): BgpCidr[] | undefined {
  if (v === undefined || v === null) return undefined;
  return list(ctx, v, field).map((item, i) => {
    const r = record(ctx, item, `${field}[${i}]`);
    if (!r) fail(ctx, `${field}[${i}]`, 'expected a mapping {cidr: ...}');
    return { cidr: cidr(ctx, r.cidr, `${field}[${i}].cidr`) };
  });
}

function optionalInt(ctx: Ctx, v: unknown, field: string, min: number, max: number): number | undefined {
  return v === undefined || v === null ? undefined : int(ctx, v, field, 0, min, max);
}

function optionalBool(ctx: Ctx, v: unknown, field: string): boolean | undefined {
  return v === undefined || v === null ? undefined : bool(ctx, v, field, false);
}

/** A Kubernetes duration ("90s", "1m30s") as whole seconds; RFC 4271 allows a hold time of 0 or 3 s and more. */
function seconds(ctx: Ctx, v: unknown, field: string, holdTime: boolean): number | undefined {
  if (v === undefined || v === null) return undefined;
  let ms: number;
  try {
    ms = parseDuration(field, v);
  } catch {
    return fail(ctx, field, `expected a duration such as "90s", got ${describe(v)}`);
  }
  const s = ms / 1000;
  if (!Number.isInteger(s)) fail(ctx, field, 'must be a whole number of seconds');
  if (s > 65535) fail(ctx, field, 'must be at most 65535s');
  if (holdTime && (s === 1 || s === 2)) fail(ctx, field, 'must be 0 or at least 3s (RFC 4271)');
  return s;
}

function selector(ctx: Ctx, v: unknown, field: string): string {
  const s = string(ctx, v, field);
  try {
    parseCalicoSelector(s);
  } catch (err) {
    fail(ctx, field, (err as Error).message);
  }
  return s;
}

export function convertBGPConfiguration(raw: unknown): BGPConfiguration {
  const { meta: m, ctx } = meta('BGPConfiguration', raw, false);
  const spec = record(ctx, (raw as Raw).spec, 'spec') ?? {};
  onlyKnown(ctx, spec, CONFIGURATION_FIELDS);
  const out: BGPConfiguration = { kind: 'BGPConfiguration', meta: m };
  const asNumber = optionalInt(ctx, spec.asNumber, 'spec.asNumber', 1, MAX_AS);
  if (asNumber !== undefined) out.asNumber = asNumber;
  const mesh = optionalBool(ctx, spec.nodeToNodeMeshEnabled, 'spec.nodeToNodeMeshEnabled');
  if (mesh !== undefined) out.nodeToNodeMeshEnabled = mesh;
  const listenPort = optionalInt(ctx, spec.listenPort, 'spec.listenPort', 1, 65535);
  if (listenPort !== undefined) out.listenPort = listenPort;
  for (const f of ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'] as const) {
    const c = cidrs(ctx, spec[f], `spec.${f}`);
    if (c) out[f] = c;
  }
  return out;
}

/** "10.0.0.1", "10.0.0.1:1179", "fd00::1" or "[fd00::1]:1179" (Calico's peerIP). */
function peerAddress(ctx: Ctx, v: unknown): { ip: string; port: number } {
  const s = string(ctx, v, 'spec.peerIP');
  if (isIP(s)) return { ip: s, port: 0 };
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : 0;
  if (!m || !isIP(m[1]) || port < 1 || port > 65535) fail(ctx, 'spec.peerIP', `${describe(s)} is not an IP address (or "ip:port", "[ipv6]:port")`);
  return { ip: m[1], port };
}

export function convertBGPPeer(raw: unknown): BGPPeer {
  const { meta: m, ctx } = meta('BGPPeer', raw, false);
  const spec = record(ctx, (raw as Raw).spec, 'spec');
  if (!spec) fail(ctx, 'spec', 'required');
  onlyKnown(ctx, spec, PEER_FIELDS);
  const peerSelector = selector(ctx, spec.peerSelector, 'spec.peerSelector');
  const node = dnsSubdomain(ctx, spec.node, 'spec.node');
  const nodeSelector = selector(ctx, spec.nodeSelector, 'spec.nodeSelector');
  if (node && nodeSelector) fail(ctx, 'spec.nodeSelector', 'set either node or nodeSelector, not both');
  let peerIP = '';
  let port = optionalInt(ctx, spec.port, 'spec.port', 1, 65535) ?? 0;
  let asNumber = 0;
  if (peerSelector) {
    if (spec.peerIP !== undefined && spec.peerIP !== null && spec.peerIP !== '') fail(ctx, 'spec.peerIP', 'set either peerIP or peerSelector, not both');
    if (spec.asNumber !== undefined && spec.asNumber !== null) fail(ctx, 'spec.asNumber', 'peers chosen by peerSelector are nodes of this cluster: their AS is the cluster\'s');
  } else {
    if (spec.peerIP === undefined || spec.peerIP === null || spec.peerIP === '') fail(ctx, 'spec.peerIP', 'required (or peerSelector)');
    const a = peerAddress(ctx, spec.peerIP);
    peerIP = a.ip;
    if (a.port && port && a.port !== port) fail(ctx, 'spec.port', `${port} contradicts the port in spec.peerIP (${a.port})`);
    port ||= a.port;
    if (spec.asNumber === undefined || spec.asNumber === null) fail(ctx, 'spec.asNumber', 'required');
    asNumber = int(ctx, spec.asNumber, 'spec.asNumber', 0, 1, MAX_AS);
  }
  const sourceAddress = string(ctx, spec.sourceAddress, 'spec.sourceAddress', 'UseNodeIP');
  if (sourceAddress !== 'UseNodeIP' && sourceAddress !== 'None' && !isIP(sourceAddress)) {
    fail(ctx, 'spec.sourceAddress', `expected UseNodeIP, None or an IP address, got ${describe(sourceAddress)}`);
  }
  const out: BGPPeer = { kind: 'BGPPeer', meta: m, peerIP, asNumber, node, nodeSelector, peerSelector, port, sourceAddress };
  const holdTime = seconds(ctx, spec.holdTime, 'spec.holdTime', true);
  if (holdTime !== undefined) out.holdTime = holdTime;
  const keepaliveTime = seconds(ctx, spec.keepaliveTime, 'spec.keepaliveTime', false);
  if (keepaliveTime !== undefined) out.keepaliveTime = keepaliveTime;
  const gracefulRestart = optionalBool(ctx, spec.gracefulRestart, 'spec.gracefulRestart');
  if (gracefulRestart !== undefined) out.gracefulRestart = gracefulRestart;
  const nextHopSelf = optionalBool(ctx, spec.nextHopSelf, 'spec.nextHopSelf');
  if (nextHopSelf !== undefined) out.nextHopSelf = nextHopSelf;
  const password = record(ctx, spec.password, 'spec.password');
  if (password) {
    const ref = record(ctx, password.secretKeyRef, 'spec.password.secretKeyRef');
    if (!ref) fail(ctx, 'spec.password.secretKeyRef', 'required (the password is read from a Secret: {secretKeyRef: {name, key}})');
    const secretName = dnsSubdomain(ctx, ref.name, 'spec.password.secretKeyRef.name');
    const key = string(ctx, ref.key, 'spec.password.secretKeyRef.key');
    if (!secretName) fail(ctx, 'spec.password.secretKeyRef.name', 'required');
    if (!key) fail(ctx, 'spec.password.secretKeyRef.key', 'required');
    // A Secret's key rule; it also keeps the key one file name inside the Secret's folder.
    if (!/^[-._a-zA-Z0-9]{1,253}$/.test(key) || key === '.' || key === '..') fail(ctx, 'spec.password.secretKeyRef.key', `${describe(key)} is not a Secret key`);
    out.password = { secretName, key };
  }
  return out;
}
