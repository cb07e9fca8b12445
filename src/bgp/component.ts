// The agent's BGP component: runs the speaker with the node's identity,
// peers with every other node (the mesh) and the configured peers, announces
// the node's blocks (and the configured service ranges), and hands what it
// learns to the routes component as a route source. Serves `netlet bgp
// status` on a Unix socket and per-peer metrics; unhealthy when sessions are
// configured and none is Established (calico-node's BIRD readiness check).

import { createServer, type Server } from 'node:http';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Gauge } from 'prom-client';
import type { Clock } from '../base/bounded-frequency-runner.ts';
import { systemClock } from '../base/bounded-frequency-runner.ts';
import type { Component, ComponentContext } from '../base/component.ts';
import { NetletError } from '../base/errors.ts';
import { familyOf, type Family } from '../base/family.ts';
import { objectKey } from '../k8s/objects.ts';
import type { Node } from '../k8s/objects.ts';
import type { ObjectStore } from '../k8s/store.ts';
import { peerOfNode, type Peer } from '../routes/peer.ts';
import type { RouteClaim } from '../routes/route-source.ts';
import { claimsFromStore } from '../routes/store-claims.ts';
import { borrowedPrefixes } from './borrowed-addresses.ts';
import { BgpRouteSource, type LearnedRoutes } from './route-source.ts';
import { meshPassive } from './session/mesh.ts';
import type { Dialer } from './session/connection.ts';
import { BgpSpeaker, type PeerConfig, type PeerStatus } from './speaker.ts';
import type { Path } from './rib/path.ts';

export type BgpContext = ComponentContext & { store: ObjectStore };

export interface BgpComponentOptions {
  asNumber: number;
  /** Empty: the node's InternalIPv4. */
  routerId?: string;
  /** 0: do not listen. */
  listenPort: number;
  nodeToNodeMesh: boolean;
  /** Set: this node is a route reflector with this cluster ID. */
  clusterId?: string;
  /** Seconds. */
  gracefulRestartTime: number;
  /** Unix socket for `netlet bgp status`; empty: none. */
  statusSocket?: string;
  peers: PeerConfig[];
  /** CIDRs announced beside the node's blocks (service ranges). */
  advertise: string[];
  /** Tests: where the listener binds (default all addresses). */
  listenHost?: string;
  dial?: Dialer;
  clock?: Clock;
}

/** The status document `netlet bgp status` prints. */
export interface BgpStatus {
  routerId: string;
  asNumber: number;
  peers: PeerStatus[];
}

/** Unhealthy only after this long without any Established session, so a starting node is not restarted (ms). */
const HEALTH_GRACE_MS = 60_000;
const STATE_NUMBER: Record<PeerStatus['state'], number> = { Idle: 1, Connect: 2, Active: 3, OpenSent: 4, OpenConfirm: 5, Established: 6 };

export class BgpComponent implements Component, LearnedRoutes {
  readonly name = 'bgp';
  readonly #ctx: BgpContext;
  readonly #o: BgpComponentOptions;
  readonly #clock: Clock;
  readonly #listeners = new Set<() => void>();
  #speaker?: BgpSpeaker;
  #statusServer?: Server;
  #unsubscribe?: () => void;
  #startedAt = 0;
  #lastEstablished = 0;
  #error?: string;
  #ready: Promise<void>;
  #readyResolve!: () => void;
  #peerNames = new Map<string, string>();
  /** Other nodes by InternalIP, as route modes see them: a learned route whose next hop is one goes through the mode's tunnel. */
  #nodePeers = new Map<string, Peer>();
  #refreshQueued = false;

  constructor(ctx: BgpContext, o: BgpComponentOptions) {
    this.#ctx = ctx;
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#ready = new Promise((r) => (this.#readyResolve = r));
    const peers = () => this.#speaker?.status() ?? [];
    new Gauge({
      name: 'netlet_bgp_peer_state',
      help: 'BGP session state per peer: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established.',
      labelNames: ['peer', 'address'],
      registers: [ctx.metrics],
      collect() {
        this.reset();
        for (const p of peers()) this.set({ peer: p.name, address: p.address }, STATE_NUMBER[p.state]);
      },
    });
    new Gauge({
      name: 'netlet_bgp_prefixes_received',
      help: 'Prefixes a peer announced that are in the RIB.',
      labelNames: ['peer', 'address'],
      registers: [ctx.metrics],
      collect() {
        this.reset();
        for (const p of peers()) this.set({ peer: p.name, address: p.address }, p.prefixesReceived);
      },
    });
    new Gauge({
      name: 'netlet_bgp_prefixes_sent',
      help: 'Prefixes announced to a peer.',
      labelNames: ['peer', 'address'],
      registers: [ctx.metrics],
      collect() {
        this.reset();
        for (const p of peers()) this.set({ peer: p.name, address: p.address }, p.prefixesSent);
      },
    });
  }

  /** The learned routes as a route source for the routes component. */
  routeSource(): BgpRouteSource {
    return new BgpRouteSource(this, { peerName: (address) => this.#peerNames.get(address) ?? address, nodeAt: (nextHop) => this.#nodePeers.get(nextHop) });
  }

  async start(): Promise<void> {
    this.#startedAt = this.#clock.now();
    if (this.#o.statusSocket) await this.#serveStatus(this.#o.statusSocket);
    // The node's identity and the mesh come from the store: wait for it in the background, as the routes component does.
    void this.#ctx.store.whenSynced('Node', 'IPAMBlock').then(() => this.#init()).catch((err: unknown) => {
      this.#error = (err as Error).message;
      this.#ctx.log.error({ err: this.#error }, 'bgp: cannot start the speaker');
      // The routes component waits for every source; with no speaker it must still install the node's blackholes.
      this.#readyResolve();
    });
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    await this.#speaker?.stop();
    const server = this.#statusServer;
    if (server) await new Promise<void>((r) => server.close(() => r()));
    if (this.#o.statusSocket) rmSync(this.#o.statusSocket, { force: true });
  }

  healthy(): boolean {
    if (this.#error) return false;
    const peers = this.#speaker?.status() ?? [];
    if (peers.some((p) => p.state === 'Established')) {
      this.#lastEstablished = this.#clock.now();
      return true;
    }
    if (!this.#speaker) return this.#clock.now() - this.#startedAt < HEALTH_GRACE_MS;
    if (peers.length === 0) return true;
    return this.#clock.now() - Math.max(this.#startedAt, this.#lastEstablished) < HEALTH_GRACE_MS;
  }

  details(): Record<string, unknown> {
    const peers = this.#speaker?.status() ?? [];
    return { bgpSessionsEstablished: `${peers.filter((p) => p.state === 'Established').length}/${peers.length}`, ...(this.#error ? { bgpError: this.#error } : {}) };
  }

  status(): BgpStatus {
    return { routerId: this.#speaker?.routerId ?? '', asNumber: this.#o.asNumber, peers: this.#speaker?.status() ?? [] };
  }

  // LearnedRoutes, for the route source.
  selected(): Iterable<Path[]> {
    return this.#speaker?.selected() ?? [];
  }

  watch(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  #ownAddresses(): Partial<Record<Family, string>> {
    const node = this.#ctx.store.get('Node', objectKey({ namespace: '', name: this.#ctx.nodeName }));
    const out: Partial<Record<Family, string>> = {};
    for (const ip of node?.internalIPs ?? []) {
      const f = familyOf(ip);
      if (f && !out[f]) out[f] = ip;
    }
    return out;
  }

  async #init(): Promise<void> {
    const addresses = this.#ownAddresses();
    const routerId = this.#o.routerId || addresses[4];
    if (!routerId) throw new NetletError('ERR_BGP_ROUTER_ID', `bgp.routerID is empty and node ${this.#ctx.nodeName} has no InternalIPv4 to take it from`);
    const speaker = new BgpSpeaker({
      asNumber: this.#o.asNumber,
      routerId,
      listen: this.#o.listenPort ? { host: this.#o.listenHost, port: this.#o.listenPort } : undefined,
      addresses,
      clusterId: this.#o.clusterId,
      gracefulRestartTime: this.#o.gracefulRestartTime,
      dial: this.#o.dial,
      clock: this.#o.clock,
      log: this.#ctx.log,
    });
    speaker.watch(() => {
      for (const fn of this.#listeners) fn();
    });
    this.#refresh(speaker);
    await speaker.start();
    this.#speaker = speaker;
    this.#ctx.log.info({ routerId, asNumber: this.#o.asNumber, peers: speaker.status().length }, 'bgp: speaker started');
    this.#unsubscribe = this.#ctx.store.subscribe((change) => {
      if (change.kind !== 'Node' && change.kind !== 'IPAMBlock' && change.kind !== 'Pod') return;
      if (this.#refreshQueued) return;
      this.#refreshQueued = true;
      setImmediate(() => {
        this.#refreshQueued = false;
        this.#refresh(speaker);
      });
    });
    void speaker.ready().then(() => this.#readyResolve());
  }

  /** Peers (mesh + configured) and own prefixes (blocks, borrowed addresses: borrowed-addresses.ts) from the store now. */
  #refresh(speaker: BgpSpeaker): void {
    const store = this.#ctx.store;
    const own = this.#ownAddresses();
    const peers: PeerConfig[] = [];
    const names = new Map<string, string>();
    const configured = new Set(this.#o.peers.map((p) => p.address));
    if (this.#o.nodeToNodeMesh) {
      for (const node of store.list('Node')) {
        if (node.meta.name === this.#ctx.nodeName) continue;
        for (const ip of node.internalIPs) {
          const family = familyOf(ip);
          const local = family ? own[family] : undefined;
          // One session per family, between the two nodes' addresses of that family (Calico's bird and bird6).
          if (!family || !local || configured.has(ip) || names.has(ip)) continue;
          names.set(ip, node.meta.name);
          peers.push({ address: ip, asNumber: this.#o.asNumber, name: `mesh ${node.meta.name}`, passive: meshPassive(local, ip), sourceAddress: local });
        }
      }
    }
    for (const p of this.#o.peers) {
      names.set(p.address, p.name ?? p.address);
      peers.push(p);
    }
    this.#peerNames = names;
    speaker.setPeers(peers);
    const claims = claimsFromStore({ nodeName: this.#ctx.nodeName, nodes: store.list('Node'), blocks: store.list('IPAMBlock') });
    this.#nodePeers = nodePeersByAddress(this.#ctx.nodeName, store.list('Node'), claims.claims);
    const borrowed = borrowedPrefixes(this.#ctx.nodeName, store.list('Pod'), store.list('IPAMBlock'));
    speaker.setLocalPrefixes([...claims.claims.filter((c) => !c.peer).map((c) => c.dst), ...borrowed, ...this.#o.advertise]);
  }

  async #serveStatus(path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    const server = createServer((req, res) => {
      if ((req.url ?? '/').split('?')[0] !== '/status') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.status()));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new NetletError('ERR_BGP_STATUS_SOCKET', `bgp.statusSocket ${path}: ${err.message} (a Unix socket path has at most 107 characters)`)));
      server.listen(path, () => resolve());
    });
    this.#statusServer = server;
  }
}

/**
 * Every other node by each of its InternalIPs, as its store claims describe
 * it (its tunnel end comes from its blocks), the address being the one the
 * route goes to.
 */
function nodePeersByAddress(self: string, nodes: Iterable<Node>, claims: readonly RouteClaim[]): Map<string, Peer> {
  const known = new Map<string, Peer>();
  for (const c of claims) if (c.peer && !known.has(c.node)) known.set(c.node, c.peer);
  const out = new Map<string, Peer>();
  for (const n of nodes) {
    if (n.meta.name === self) continue;
    const peer = known.get(n.meta.name) ?? peerOfNode(n);
    for (const ip of n.internalIPs) {
      const family = familyOf(ip);
      if (family) out.set(ip, peer.addresses[family] === ip ? peer : { ...peer, addresses: { ...peer.addresses, [family]: ip } });
    }
  }
  return out;
}
