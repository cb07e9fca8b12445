// The bgp section of the config as the BGP component's options, with the
// checks the schema cannot make (addresses, required keys, what netlet
// refuses), each a ConfigError naming its key.

import { isIPv4, isIP } from 'node:net';
import { ConfigError } from '../base/errors.ts';
import { parseCidr } from '../ipam/cidr.ts';
import type { BgpComponentOptions } from '../bgp/component.ts';
import type { PeerConfig } from '../bgp/speaker.ts';
import { MAX_MD5_KEY_BYTES, md5Available } from '../bgp/session/tcp-md5.ts';
import type { AgentConfig } from './config.ts';

/** A TCP MD5 key the kernel takes, with the addon that sets it built. */
export function checkMd5Password(key: string, password: string): void {
  if (Buffer.byteLength(password) > MAX_MD5_KEY_BYTES) throw new ConfigError(key, `a TCP MD5 password has at most ${MAX_MD5_KEY_BYTES} bytes (RFC 2385 as Linux implements it)`);
  if (!md5Available()) throw new ConfigError(key, "TCP MD5 needs netlet's native addon native/build/Release/netlet_tcp_md5.node: run 'npm install'");
}

const seconds = (key: string, ms: number, opts: { holdTime?: boolean } = {}): number => {
  const s = ms / 1000;
  if (!Number.isInteger(s)) throw new ConfigError(key, 'must be a whole number of seconds');
  // RFC 4271 4.2: a hold time is 0 or at least 3 seconds.
  if (opts.holdTime && (s === 1 || s === 2)) throw new ConfigError(key, 'must be 0 or at least 3s (RFC 4271)');
  if (s > 65535) throw new ConfigError(key, 'must be at most 65535s');
  return s;
};

export function bgpComponentOptions(config: AgentConfig): BgpComponentOptions {
  const b = config.bgp;
  if (b.routerID && !isIPv4(b.routerID)) throw new ConfigError('bgp.routerID', `${JSON.stringify(b.routerID)} is not an IPv4 address`);
  if (b.routeReflectorClusterID && !isIPv4(b.routeReflectorClusterID)) {
    throw new ConfigError('bgp.routeReflectorClusterID', `${JSON.stringify(b.routeReflectorClusterID)} is not an IPv4 address (a cluster ID is written as one)`);
  }
  const peers: PeerConfig[] = b.peers.map((p, i) => {
    const key = (field: string) => `bgp.peers[${i}].${field}`;
    if (!isIP(p.peerIP)) throw new ConfigError(key('peerIP'), p.peerIP ? `${JSON.stringify(p.peerIP)} is not an IP address` : 'required');
    if (!p.asNumber) throw new ConfigError(key('asNumber'), 'required');
    if (p.password) checkMd5Password(key('password'), p.password);
    if (p.sourceAddress && !isIP(p.sourceAddress)) throw new ConfigError(key('sourceAddress'), `${JSON.stringify(p.sourceAddress)} is not an IP address`);
    if (p.routeReflectorClient && !b.routeReflectorClusterID) throw new ConfigError(key('routeReflectorClient'), 'needs bgp.routeReflectorClusterID (this node must be a route reflector to have clients)');
    const keepalive = seconds(key('keepaliveTime'), p.keepaliveTime);
    return {
      address: p.peerIP,
      asNumber: p.asNumber,
      port: p.port,
      name: `peer ${p.peerIP}`,
      holdTime: seconds(key('holdTime'), p.holdTime, { holdTime: true }),
      ...(keepalive ? { keepaliveTime: keepalive } : {}),
      gracefulRestart: p.gracefulRestart,
      nextHopSelf: p.nextHopSelf,
      passive: p.passive,
      ...(p.password ? { password: p.password } : {}),
      routeReflectorClient: p.routeReflectorClient,
      ...(p.sourceAddress ? { sourceAddress: p.sourceAddress } : {}),
    };
  });
  const advertise: BgpComponentOptions['advertise'] = { serviceClusterIPs: [], serviceExternalIPs: [], serviceLoadBalancerIPs: [] };
  for (const field of ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'] as const) {
    b.advertise[field].forEach((cidr, i) => {
      try {
        parseCidr(cidr);
      } catch (err) {
        throw new ConfigError(`bgp.advertise.${field}[${i}]`, (err as Error).message);
      }
      advertise[field].push(cidr);
    });
  }
  return {
    asNumber: b.asNumber,
    ...(b.routerID ? { routerId: b.routerID } : {}),
    listenPort: b.listenPort,
    nodeToNodeMesh: b.nodeToNodeMesh,
    ...(b.routeReflectorClusterID ? { clusterId: b.routeReflectorClusterID } : {}),
    gracefulRestartTime: seconds('bgp.gracefulRestartTime', b.gracefulRestartTime),
    statusSocket: b.statusSocket,
    secretsDirectory: b.secretsDirectory,
    peers,
    advertise,
  };
}
