// The agent's BGP component: runs the speaker with the node's identity,
// peers with every other node (the mesh), the configured peers and the
// BGPPeer objects that apply to it, announces the node's blocks (and the
// configured service ranges), and hands what it learns to the routes
// component as a route source. Settings follow the agent config and the
// BGPConfiguration objects live (cluster-config.ts): peers are added and
// removed alone; a change of AS number, listen port or route reflector
// cluster ID restarts the speaker, as it changes every session. Serves `netlet bgp
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
import { effectiveBgp, type BgpDefaults, type EffectiveBgp } from './cluster-config.ts';
import { readPeerPassword } from './peer-password.ts';
import { kernelKeptRoutes } from './kept-routes.ts';
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
  /** Where BGPPeer passwords are read: <dir>/<secret name>/<key> (a mounted Secret). */
  secretsDirectory?: string;
  peers: PeerConfig[];
  /** CIDRs announced beside the node's blocks (service ranges). */
  advertise: BgpDefaults['advertise'];
  /** Tests: where the listener binds (default all addresses). */
  listenHost?: string;
  dial?: Dialer;
  clock?: Clock;
  /** Whether the kernel kept this node's routes from a previous run (default: asks the kernel). */
  keptRoutes?: () => Promise<boolean>;
}

/** The status document `netlet bgp status` prints. */
export interface BgpStatus {
  routerId: string;
  asNumber: number;
  peers: PeerStatus[];
}

/** Unhealthy only after this long without any Established session, so a starting node is not restarted (ms). */
const HEALTH_GRACE_MS = 60_000;
/** How often BGPPeer passwords are read again from their mounted Secrets (ms); kubelet refreshes such volumes about every minute. */
const SECRETS_REREAD_MS = 30_000;
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
  /** The settings the running speaker was built with. */
  #running?: EffectiveBgp;
  #routerId = '';
  #problems = new Set<string>();
  /** Speaker rebuilds run one at a time. */
  #work: Promise<void> = Promise.resolve();
  #stopped = false;
  /** The kernel kept routes from a previous run: the first speaker restarts gracefully. */
  #restarted = false;

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
    void this.#ctx.store.whenSynced('Node', 'IPAMBlock', 'BGPConfiguration', 'BGPPeer').then(() => this.#init()).catch((err: unknown) => {
      this.#error = (err as Error).message;
      this.#ctx.log.error({ err: this.#error }, 'bgp: cannot start the speaker');
      // The routes component waits for every source; with no speaker it must still install the node's blackholes.
      this.#readyResolve();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    await this.#work;
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
    return { routerId: this.#speaker?.routerId ?? '', asNumber: this.#running?.asNumber ?? this.#o.asNumber, peers: this.#speaker?.status() ?? [] };
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
    this.#routerId = routerId;
    this.#restarted = await (this.#o.keptRoutes ?? kernelKeptRoutes)().catch((err: unknown) => {
      this.#ctx.log.warn({ err: (err as Error).message }, 'bgp: cannot read the kernel routes; starting as a fresh speaker');
      return false;
    });
    if (this.#restarted) this.#ctx.log.info({ restartTime: this.#o.gracefulRestartTime }, 'bgp: the kernel kept this node\'s routes: restarting speaker (RFC 4724 R and F bits) until every peer sent End-of-RIB');
    await this.#startSpeaker(this.#effective());
    const unsubscribe = this.#ctx.store.subscribe((change) => {
      if (change.kind === 'Node' || change.kind === 'IPAMBlock' || change.kind === 'Pod' || change.kind === 'BGPConfiguration' || change.kind === 'BGPPeer') this.#queueRefresh();
    });
    // A mounted Secret changes without any object changing: its passwords are read again now and then.
    const secrets = setInterval(() => {
      if ([...this.#ctx.store.list('BGPPeer')].some((p) => p.password)) this.#queueRefresh();
    }, SECRETS_REREAD_MS);
    secrets.unref();
    this.#unsubscribe = () => {
      unsubscribe();
      clearInterval(secrets);
    };
  }

  #queueRefresh(): void {
    if (this.#refreshQueued) return;
    this.#refreshQueued = true;
    setImmediate(() => {
      this.#refreshQueued = false;
      this.#work = this.#work.then(() => this.#refresh()).catch((err: unknown) => {
        this.#error = (err as Error).message;
        this.#ctx.log.error({ err: this.#error }, 'bgp: cannot apply the new settings');
      });
    });
  }

  /** The settings from the agent config and the store's objects now; new problems logged once. */
  #effective(): EffectiveBgp {
    const store = this.#ctx.store;
    const e = effectiveBgp({
      nodeName: this.#ctx.nodeName,
      defaults: { asNumber: this.#o.asNumber, listenPort: this.#o.listenPort, nodeToNodeMesh: this.#o.nodeToNodeMesh, clusterId: this.#o.clusterId, peers: this.#o.peers, advertise: this.#o.advertise },
      nodes: store.list('Node'),
      configurations: store.list('BGPConfiguration'),
      peers: store.list('BGPPeer'),
      password: (p) => readPeerPassword(this.#o.secretsDirectory ?? '/etc/netlet/bgp-secrets', p),
    });
    const problems = new Set(e.problems);
    for (const p of problems) if (!this.#problems.has(p)) this.#ctx.log.error({ problem: p }, 'bgp: object not used');
    this.#problems = problems;
    return e;
  }

  async #startSpeaker(e: EffectiveBgp): Promise<void> {
    const speaker = new BgpSpeaker({
      asNumber: e.asNumber,
      routerId: this.#routerId,
      listen: e.listenPort ? { host: this.#o.listenHost, port: e.listenPort } : undefined,
      addresses: this.#ownAddresses(),
      clusterId: e.clusterId,
      gracefulRestartTime: this.#o.gracefulRestartTime,
      // Only the first speaker of a run restarts; a rebuilt one's sessions all start over anyway.
      restarted: this.#restarted && !this.#running,
      // While restarting, the kernel's routes wait for the peers' End-of-RIB up to the restart time (RFC 4724's selection deferral).
      ...(this.#restarted && !this.#running ? { readyTimeoutMs: this.#o.gracefulRestartTime * 1000 } : {}),
      dial: this.#o.dial,
      clock: this.#o.clock,
      log: this.#ctx.log,
    });
    speaker.watch(() => {
      for (const fn of this.#listeners) fn();
    });
    this.#apply(speaker, e);
    await speaker.start();
    this.#speaker = speaker;
    this.#running = e;
    this.#ctx.log.info({ routerId: this.#routerId, asNumber: e.asNumber, listenPort: e.listenPort, routeReflectorClusterId: e.clusterId, peers: speaker.status().length }, 'bgp: speaker started');
    void speaker.ready().then(() => this.#readyResolve());
  }

  /** Applies the store's state now: peers and prefixes alone, or a new speaker when a setting of every session changed. */
  async #refresh(): Promise<void> {
    if (this.#stopped || !this.#running) return;
    const e = this.#effective();
    const r = this.#running;
    // No speaker: a rebuild failed (its port taken...); each later change tries again.
    if (!this.#speaker || e.asNumber !== r.asNumber || e.listenPort !== r.listenPort || e.clusterId !== r.clusterId) {
      const old = this.#speaker;
      if (old) {
        this.#ctx.log.warn({ asNumber: [r.asNumber, e.asNumber], listenPort: [r.listenPort, e.listenPort], routeReflectorClusterId: [r.clusterId, e.clusterId] }, 'bgp: AS number, listen port or cluster ID changed; restarting the speaker');
        this.#speaker = undefined;
        await old.stop();
      }
      await this.#startSpeaker(e);
      this.#error = undefined;
      return;
    }
    this.#running = e;
    this.#apply(this.#speaker, e);
    this.#error = undefined;
  }

  #apply(speaker: BgpSpeaker, e: EffectiveBgp): void {
    this.#peerNames = new Map(e.peers.map((p) => [p.address, p.name ?? p.address]));
    speaker.setPeers(e.peers);
    const store = this.#ctx.store;
    const claims = claimsFromStore({ nodeName: this.#ctx.nodeName, nodes: store.list('Node'), blocks: store.list('IPAMBlock') });
    this.#nodePeers = nodePeersByAddress(this.#ctx.nodeName, store.list('Node'), claims.claims);
    const borrowed = borrowedPrefixes(this.#ctx.nodeName, store.list('Pod'), store.list('IPAMBlock'));
    speaker.setLocalPrefixes([...claims.claims.filter((c) => !c.peer).map((c) => c.dst), ...borrowed, ...e.advertise]);
  }

  async #serveStatus(path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://bgp');
      if (url.pathname === '/refresh' && req.method === 'POST') {
        const peer = url.searchParams.get('peer') ?? '';
        const address = [...this.#peerNames].find(([a, name]) => a === peer || name === peer)?.[0] ?? peer;
        const why = this.#speaker ? this.#speaker.requestRefresh(address) : 'the speaker is not running';
        res.writeHead(why ? 409 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(why ? { error: why } : { refreshed: address }));
        return;
      }
      if (url.pathname !== '/status') {
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
