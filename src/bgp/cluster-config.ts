// What one node's speaker runs with, from the agent config and the cluster's
// objects (a pure function, tested with tables). Precedence, lowest first:
// the agent config's bgp.* keys, BGPConfiguration `default`, then
// `node.<nodename>` (a field an object leaves out keeps the level below).
// Peers: the agent config's bgp.peers, then the BGPPeer objects that apply
// to this node (by name order), then the mesh; an address already taken
// keeps its first definition. A node is a route reflector when its Node
// carries ROUTE_REFLECTOR_LABEL (the cluster ID, an IPv4 address), else when
// bgp.routeReflectorClusterID is set.

import { isIPv4 } from 'node:net';
import { familyOf, type Family } from '../base/family.ts';
import { calicoSelects, parseCalicoSelector, type CalicoSelector } from '../k8s/calico-selector.ts';
import type { BGPConfiguration, BGPPeer, Node } from '../k8s/objects.ts';
import { meshPassive } from './session/mesh.ts';
import type { PeerConfig } from './speaker.ts';

/** The Node label that makes a node a route reflector; its value is the cluster ID. */
export const ROUTE_REFLECTOR_LABEL = 'netlet.io/route-reflector-cluster-id';

/** The agent config's part of the settings (bgp-options.ts). */
export interface BgpDefaults {
  asNumber: number;
  listenPort: number;
  nodeToNodeMesh: boolean;
  clusterId?: string;
  peers: PeerConfig[];
  advertise: { serviceClusterIPs: string[]; serviceExternalIPs: string[]; serviceLoadBalancerIPs: string[] };
}

export interface ClusterBgpInput {
  nodeName: string;
  defaults: BgpDefaults;
  nodes: Iterable<Node>;
  configurations: Iterable<BGPConfiguration>;
  peers: Iterable<BGPPeer>;
  /** The TCP MD5 password of a BGPPeer's secret reference; undefined when it cannot be read (the reason in `problems`). */
  password?: (peer: BGPPeer) => { password?: string; problem?: string };
}

export interface EffectiveBgp {
  asNumber: number;
  listenPort: number;
  nodeToNodeMesh: boolean;
  clusterId?: string;
  peers: PeerConfig[];
  advertise: string[];
  /** Objects left out (a bad label, a password that cannot be read), one line each, for the log. */
  problems: string[];
}

const SERVICE_FIELDS = ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'] as const;

/** The cluster ID a Node's label gives, or a problem. */
export function labelClusterId(node: Node | undefined): { clusterId?: string; problem?: string } {
  const v = node?.labels[ROUTE_REFLECTOR_LABEL];
  if (v === undefined) return {};
  if (!isIPv4(v)) return { problem: `Node ${node!.meta.name}: label ${ROUTE_REFLECTOR_LABEL}=${JSON.stringify(v)} is not an IPv4 address (a cluster ID is written as one); not a route reflector` };
  return { clusterId: v };
}

function ownAddresses(node: Node | undefined): Partial<Record<Family, string>> {
  const out: Partial<Record<Family, string>> = {};
  for (const ip of node?.internalIPs ?? []) {
    const f = familyOf(ip);
    if (f && !out[f]) out[f] = ip;
  }
  return out;
}

export function effectiveBgp(input: ClusterBgpInput): EffectiveBgp {
  const { nodeName, defaults } = input;
  const problems: string[] = [];
  const nodes = [...input.nodes];
  const self = nodes.find((n) => n.meta.name === nodeName);
  const own = ownAddresses(self);

  const configs = [...input.configurations];
  const layers = [configs.find((c) => c.meta.name === 'default'), configs.find((c) => c.meta.name === `node.${nodeName}`)].filter((c): c is BGPConfiguration => !!c);
  let { asNumber, listenPort, nodeToNodeMesh } = defaults;
  const advertise = { ...defaults.advertise };
  for (const c of layers) {
    if (c.asNumber !== undefined) asNumber = c.asNumber;
    if (c.listenPort !== undefined) listenPort = c.listenPort;
    if (c.nodeToNodeMeshEnabled !== undefined) nodeToNodeMesh = c.nodeToNodeMeshEnabled;
    for (const f of SERVICE_FIELDS) if (c[f]) advertise[f] = c[f].map((x) => x.cidr);
  }

  const label = labelClusterId(self);
  if (label.problem) problems.push(label.problem);
  const clusterId = label.clusterId ?? defaults.clusterId;
  const clusterIdOf = (n: Node): string | undefined => (n.meta.name === nodeName ? clusterId : labelClusterId(n).clusterId);

  const peers: PeerConfig[] = [];
  const taken = new Set<string>([...Object.values(own)].filter((a): a is string => !!a));
  const add = (p: PeerConfig) => {
    if (taken.has(p.address)) return;
    taken.add(p.address);
    peers.push(p);
  };
  for (const p of defaults.peers) add(p);

  const selectorCache = new Map<string, CalicoSelector | undefined>();
  const selector = (text: string) => {
    if (!selectorCache.has(text)) selectorCache.set(text, parseCalicoSelector(text));
    return selectorCache.get(text);
  };
  const applies = (p: BGPPeer, n: Node): boolean => {
    if (p.node) return p.node === n.meta.name;
    const s = selector(p.nodeSelector);
    return s ? calicoSelects(s, n.labels) : true;
  };
  const timers = (p: BGPPeer): Partial<PeerConfig> => ({
    ...(p.holdTime !== undefined ? { holdTime: p.holdTime } : {}),
    ...(p.keepaliveTime !== undefined ? { keepaliveTime: p.keepaliveTime } : {}),
    ...(p.gracefulRestart !== undefined ? { gracefulRestart: p.gracefulRestart } : {}),
    ...(p.nextHopSelf !== undefined ? { nextHopSelf: p.nextHopSelf } : {}),
  });
  /** This node's sessions with another node, one per family both have (as the mesh's). */
  const nodePeer = (p: BGPPeer, other: Node) => {
    for (const ip of other.internalIPs) {
      const family = familyOf(ip);
      const local = family ? own[family] : undefined;
      if (!local) continue;
      const otherId = clusterIdOf(other);
      // Calico's rule: a reflector's peer is its client unless it reflects for the same cluster.
      const client = !!clusterId && otherId !== clusterId;
      add({ address: ip, asNumber, name: `BGPPeer ${p.meta.name} node ${other.meta.name}`, passive: meshPassive(local, ip), sourceAddress: local, ...(client ? { routeReflectorClient: true } : {}), ...timers(p) });
    }
  };

  const objects = [...input.peers].sort((a, b) => (a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : 0));
  for (const p of objects) {
    if (!self) break;
    if (p.peerSelector) {
      const peerSel = selector(p.peerSelector)!;
      const iApply = applies(p, self);
      const iAmSelected = calicoSelects(peerSel, self.labels);
      for (const other of nodes) {
        if (other.meta.name === nodeName) continue;
        // The peering is symmetric: selected nodes peer back with the nodes it applies to.
        if ((iApply && calicoSelects(peerSel, other.labels)) || (iAmSelected && applies(p, other))) nodePeer(p, other);
      }
      continue;
    }
    if (!applies(p, self)) continue;
    const family = familyOf(p.peerIP);
    let password: string | undefined;
    if (p.password) {
      const got = input.password?.(p) ?? { problem: `BGPPeer ${p.meta.name}: spec.password: no Secret reader` };
      if (got.problem) {
        problems.push(got.problem);
        continue;
      }
      password = got.password;
    }
    const source = p.sourceAddress === 'UseNodeIP' ? (family ? own[family] : undefined) : p.sourceAddress === 'None' ? undefined : p.sourceAddress;
    add({
      address: p.peerIP,
      asNumber: p.asNumber,
      ...(p.port ? { port: p.port } : {}),
      name: `BGPPeer ${p.meta.name}`,
      ...(source ? { sourceAddress: source } : {}),
      ...(password ? { password } : {}),
      ...timers(p),
    });
  }

  if (nodeToNodeMesh && self) {
    for (const node of nodes) {
      if (node.meta.name === nodeName) continue;
      for (const ip of node.internalIPs) {
        const family = familyOf(ip);
        const local = family ? own[family] : undefined;
        // One session per family, between the two nodes' addresses of that family (Calico's bird and bird6).
        if (!local) continue;
        add({ address: ip, asNumber, name: `mesh ${node.meta.name}`, passive: meshPassive(local, ip), sourceAddress: local });
      }
    }
  }

  return {
    asNumber,
    listenPort,
    nodeToNodeMesh,
    ...(clusterId ? { clusterId } : {}),
    peers,
    advertise: SERVICE_FIELDS.flatMap((f) => advertise[f]),
    problems,
  };
}
