// Every iptables chain name netlet writes comes from this module, and cleanup
// only touches the names it says are netlet's. The names are kube-proxy's
// (pkg/proxy/iptables), so a node can move from kube-proxy to netlet and back
// without leftovers: chains are the same.

import { hash } from 'node:crypto';

/** Fixed chains, in the tables kube-proxy creates them in. */
export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
/** An empty chain whose disappearance tells that someone flushed the table. */
export const KUBE_PROXY_CANARY = 'KUBE-PROXY-CANARY';

export const NAT_FIXED_CHAINS = [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ, KUBE_PROXY_CANARY] as const;
export const FILTER_FIXED_CHAINS = [
  KUBE_SERVICES,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FORWARD,
  KUBE_NODEPORTS,
  KUBE_PROXY_FIREWALL,
  KUBE_PROXY_CANARY,
] as const;

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'] as const;

/**
 * kube-proxy's hash: base32 (RFC 4648 standard alphabet) of sha256(s), first
 * 16 characters. 16 base32 characters are 80 bits, so only the first 10 bytes
 * of the digest matter, which is all this encodes. (Hand-written: Node has no
 * base32, and 10 bytes need 8 lines, not a dependency.)
 */
export function chainHash(s: string): string {
  writeHash(0, s);
  return NAME.toString('latin1', 0, HASH_CHARS);
}

/** `prefix` + chainHash(s). */
function hashedName(prefix: string, s: string): string {
  writeHash(prefix.length, s);
  return readName(prefix, prefix.length);
}

/**
 * Scratch space for one chain name: a prefix of at most 9 characters
 * ("KUBE-SEP-") and the 16 of the hash. Names are written here and read back
 * as one flat string, not a rope (docs/design/iptables-sync.md#chain-names).
 */
const NAME = Buffer.alloc(32);
const HASH_CHARS = 16;

/** The name whose hash writeHash put at `hashAt`, with `prefix` written just before it. */
function readName(prefix: string, hashAt: number): string {
  const from = hashAt - prefix.length;
  NAME.write(prefix, from, 'latin1');
  return NAME.toString('latin1', from, hashAt + HASH_CHARS);
}

/** sha256 of `s`, one character per byte: the cheapest form of the digest (docs/design/iptables-sync.md#chain-names). */
function sha256Chars(s: string): string {
  return hash('sha256', s, 'binary');
}

/** chainHash(s) into NAME at `at`. */
function writeHash(at: number, s: string): void {
  const digest = sha256Chars(s);
  let bits = 0;
  let value = 0;
  let out = at;
  for (let i = 0; i < 10; i++) {
    value = (value << 8) | digest.charCodeAt(i);
    bits += 8;
    while (bits >= 5) {
      NAME[out++] = BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
}

const BASE32 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 'latin1');

/** `spn` is "namespace/name:portName" (or "namespace/name"), `proto` lower case. */
export const svcChain = (spn: string, proto: string): string => hashedName('KUBE-SVC-', spn + proto);
export const svlChain = (spn: string, proto: string): string => hashedName('KUBE-SVL-', spn + proto);
export const extChain = (spn: string, proto: string): string => hashedName('KUBE-EXT-', spn + proto);
export const fwChain = (spn: string, proto: string): string => hashedName('KUBE-FW-', spn + proto);

/**
 * The four per-service-port chains at once: they share one hash
 * (kube-proxy's portProtoHash), so a render hashes once instead of four
 * times (docs/design/iptables-sync.md#chain-names).
 */
export function servicePortChains(spn: string, proto: string): { svc: string; svl: string; ext: string; fw: string } {
  // The prefixes are 9 characters but FW's 8: the hash goes at 9 and FW's name starts at 1.
  writeHash(9, spn + proto);
  return { svc: readName('KUBE-SVC-', 9), svl: readName('KUBE-SVL-', 9), ext: readName('KUBE-EXT-', 9), fw: readName('KUBE-FW-', 9) };
}

/** `endpoint` as Go's net.JoinHostPort writes it: "10.0.0.1:80", "[fd00::1]:80". */
export const sepChain = (spn: string, proto: string, endpoint: string): string => hashedName('KUBE-SEP-', spn + proto + endpoint);

export function endpointString(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** A per-service chain (SVC/SVL/EXT/FW/SEP): the ones stale-chain deletion may remove. */
export function isServiceChain(name: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => name.startsWith(p));
}

/** Chains the IPVS mode adds beside the shared ones, kube-proxy's names (pkg/proxy/ipvs). */
export const KUBE_NODE_PORT = 'KUBE-NODE-PORT';
export const KUBE_LOAD_BALANCER = 'KUBE-LOAD-BALANCER';
export const KUBE_IPVS_FILTER = 'KUBE-IPVS-FILTER';
export const KUBE_IPVS_OUT_FILTER = 'KUBE-IPVS-OUT-FILTER';
export const KUBE_SOURCE_RANGES_FIREWALL = 'KUBE-SOURCE-RANGES-FIREWALL';

/** The IPVS mode's chains, netlet's as much as the shared ones (ipvs/iptables-rules.ts writes them). */
const IPVS_CHAINS: Record<string, readonly string[]> = {
  nat: [KUBE_NODE_PORT, KUBE_LOAD_BALANCER],
  filter: [KUBE_NODE_PORT, KUBE_IPVS_FILTER, KUBE_IPVS_OUT_FILTER, KUBE_SOURCE_RANGES_FIREWALL],
};

/**
 * What kube-proxy's IPVS mode keeps that netlet never writes: nat's
 * KUBE-FIREWALL (kubelet's KUBE-FIREWALL lives in filter and is not ours).
 * `netlet cleanup --kube-proxy` removes it too.
 */
const KUBE_PROXY_ONLY_CHAINS: Record<string, readonly string[]> = {
  nat: ['KUBE-FIREWALL'],
};

/**
 * Chains netlet (and kube-proxy) own in `table`: the fixed ones and the
 * per-service ones. kubelet's KUBE-FIREWALL (filter), KUBE-KUBELET-CANARY and
 * KUBE-MARK-DROP are not ours and are left alone.
 */
export function isOwnedChain(table: string, name: string, opts: { kubeProxy?: boolean } = {}): boolean {
  if (opts.kubeProxy && KUBE_PROXY_ONLY_CHAINS[table]?.includes(name)) return true;
  if (IPVS_CHAINS[table]?.includes(name)) return true;
  if (table === 'nat') return (NAT_FIXED_CHAINS as readonly string[]).includes(name) || isServiceChain(name);
  if (table === 'filter') return (FILTER_FIXED_CHAINS as readonly string[]).includes(name);
  if (table === 'mangle') return name === KUBE_PROXY_CANARY;
  return false;
}
