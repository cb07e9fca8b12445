// netlet's BGP speaker: one state machine per configured peer, a listener
// for peers that dial in, the RIB of what they announce, and per-peer
// Adj-RIB-Out of what this node announces (its own prefixes; reflected
// routes when it is a route reflector). Graceful restart (RFC 4724) as the
// receiving speaker: a peer's routes outlive a session lost without a
// NOTIFICATION, marked stale, until its End-of-RIB or the restart time.

import net from 'node:net';
import { systemClock, type Clock } from '../base/bounded-frequency-runner.ts';
import type { Family } from '../base/family.ts';
import { silentLogger, type Logger } from '../base/log.ts';
import { AdjRibOut } from './adj-rib-out.ts';
import { ownAdvertisement, reflectedAdvertisement, type ExportContext, type ExportPeer } from './export-policy.ts';
import { checkAnnouncement, type ImportContext } from './import-policy.ts';
import { Rib } from './rib/rib.ts';
import type { Path } from './rib/path.ts';
import { normalize, tcpDialer, TcpConnection, type Dialer } from './session/connection.ts';
import { setListenerMd5 } from './session/tcp-md5.ts';
import type { Negotiated, SessionConfig } from './session/negotiate.ts';
import { PeerFsm, type PeerState, type SessionDown } from './session/peer-fsm.ts';
import { Afi, describeError, Safi } from './wire/constants.ts';
import { encodeRouteRefresh } from './wire/messages.ts';
import { encodeEndOfRib } from './wire/update-encode.ts';
import type { DecodedUpdate } from './wire/update.ts';
import { familyOf } from '../base/family.ts';

export interface PeerConfig {
  address: string;
  asNumber: number;
  port?: number;
  /** How status names the peer ("mesh node-b", "peer tor-1"). */
  name?: string;
  holdTime?: number;
  keepaliveTime?: number;
  gracefulRestart?: boolean;
  passive?: boolean;
  sourceAddress?: string;
  /** This speaker reflects routes to the peer (RFC 4456). */
  routeReflectorClient?: boolean;
  /** Routes reflected to the peer carry this speaker as next hop. */
  nextHopSelf?: boolean;
  /** TCP MD5 signature key (RFC 2385). */
  password?: string;
}

export interface SpeakerOptions {
  asNumber: number;
  routerId: string;
  /** Where to accept incoming sessions; absent: only dial. Port 0 picks one (tests). */
  listen?: { host?: string; port: number };
  /** The node's addresses: next hops for its own prefixes of a family the session is not, and loop checks. */
  addresses?: Partial<Record<Family, string>>;
  /** Makes this speaker a route reflector with this cluster ID. */
  clusterId?: string;
  /** Seconds a peer may take to restart (announced in our graceful restart capability). */
  gracefulRestartTime?: number;
  /**
   * RFC 4724 as the restarting speaker: this speaker restarted and the
   * kernel kept its routes. OPENs carry the R bit and the F bit until the
   * speaker is ready (every peer's End-of-RIB or the ready timeout); false:
   * the F bit is clear until then (nothing was kept), set afterwards.
   */
  restarted?: boolean;
  /** ready() resolves after this long even if some peers never reached End-of-RIB (ms). */
  readyTimeoutMs?: number;
  clock?: Clock;
  dial?: Dialer;
  log?: Logger;
}

export interface PeerStatus {
  name: string;
  address: string;
  asNumber: number;
  state: PeerState;
  /** When the state last changed (ms since the epoch). */
  since: number;
  prefixesReceived: number;
  prefixesSent: number;
  lastError?: string;
}

interface PeerRuntime {
  config: PeerConfig;
  fsm: PeerFsm;
  adjOut: AdjRibOut;
  negotiated?: Negotiated;
  localAddress?: string;
  since: number;
  lastError?: string;
  /** Families whose End-of-RIB arrived on the current session. */
  endOfRib: Set<Family>;
  staleTimer?: unknown;
}

export class BgpSpeaker {
  readonly #o: SpeakerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #rib = new Rib();
  readonly #peers = new Map<string, PeerRuntime>();
  readonly #local = new Map<string, { family: Family; prefix: string }>();
  readonly #listeners = new Set<() => void>();
  #server?: net.Server;
  #started = false;
  #ready?: Promise<void>;
  #readyResolve?: () => void;
  #converged = false;

  constructor(o: SpeakerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#log = o.log ?? silentLogger;
  }

  get routerId(): string {
    return this.#o.routerId;
  }

  /** The listening port (after start), for tests that listen on port 0. */
  get port(): number | undefined {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  async start(): Promise<void> {
    this.#started = true;
    if (this.#o.listen) {
      const server = net.createServer((socket) => this.#incoming(socket));
      this.#server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.#o.listen!.host ?? '::', port: this.#o.listen!.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => this.#log.error({ err: err.message }, 'bgp: listener failed'));
      for (const p of this.#peers.values()) if (p.config.password) this.#listenerKey(p, p.config.password);
    }
    for (const p of this.#peers.values()) p.fsm.start();
    this.#ready = new Promise<void>((resolve) => (this.#readyResolve = resolve));
    void this.#ready.then(() => (this.#converged = true));
    this.#clock.setTimeout(() => this.#readyResolve?.(), this.#o.readyTimeoutMs ?? 10_000);
    this.#checkReady();
  }

  async stop(): Promise<void> {
    this.#started = false;
    for (const p of this.#peers.values()) {
      p.fsm.stop();
      if (p.staleTimer !== undefined) this.#clock.clearTimeout(p.staleTimer);
    }
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Resolves once every peer has sent End-of-RIB for its families (or the ready timeout passed): the RIB is whole. */
  ready(): Promise<void> {
    return this.#ready ?? Promise.resolve();
  }

  /** Calls `fn` whenever the selected routes may have changed. */
  watch(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Makes the configured peers exactly these: new ones start, removed ones get Cease "peer de-configured". */
  setPeers(configs: readonly PeerConfig[]): void {
    const wanted = new Map(configs.map((c) => [c.address, c]));
    for (const [address, p] of this.#peers) {
      const c = wanted.get(address);
      if (c && JSON.stringify(c) === JSON.stringify(p.config)) continue;
      p.fsm.stop(3, 'peer de-configured');
      if (p.config.password) this.#listenerKey(p, '');
      this.#peers.delete(address);
      this.#rib.dropPeer(address);
      if (p.staleTimer !== undefined) this.#clock.clearTimeout(p.staleTimer);
    }
    for (const c of configs) if (!this.#peers.has(c.address)) this.#addPeer(c);
    this.#routesChanged();
  }

  /** Makes this node's own prefixes exactly these (its blocks, service ranges). */
  setLocalPrefixes(prefixes: readonly string[]): void {
    const next = new Map<string, { family: Family; prefix: string }>();
    for (const prefix of prefixes) {
      const family = familyOf(prefix);
      if (family) next.set(`${family}|${prefix}`, { family, prefix });
    }
    const changed = new Set<string>();
    for (const k of this.#local.keys()) if (!next.has(k)) changed.add(k);
    for (const k of next.keys()) if (!this.#local.has(k)) changed.add(k);
    this.#local.clear();
    for (const [k, v] of next) this.#local.set(k, v);
    if (changed.size) this.#export(changed);
  }

  /** The selected learned paths of every prefix (best first, then its equal-cost peers). */
  selected(): Iterable<Path[]> {
    return this.#rib.selected();
  }

  /**
   * Asks a peer to send its routes again (ROUTE-REFRESH, RFC 2918), for each
   * family of the session: what `netlet bgp refresh` does after an import
   * change. Returns why it cannot, or undefined when sent.
   */
  requestRefresh(address: string): string | undefined {
    const p = this.#peers.get(address);
    if (!p) return `${address} is not a peer`;
    const n = p.negotiated;
    if (!n || p.fsm.state !== 'Established') return `the session with ${address} is ${p.fsm.state}, not Established`;
    if (!n.routeRefresh) return `${address} did not announce the route refresh capability`;
    p.fsm.send(n.families.map((f) => encodeRouteRefresh({ afi: f === 4 ? Afi.IPV4 : Afi.IPV6, safi: Safi.UNICAST, subtype: 0 })));
    this.#log.info({ peer: p.config.name ?? address, families: n.families }, 'bgp: ROUTE-REFRESH sent');
    return undefined;
  }

  status(): PeerStatus[] {
    return [...this.#peers.values()].map((p) => ({
      name: p.config.name ?? p.config.address,
      address: p.config.address,
      asNumber: p.config.asNumber,
      state: p.fsm.state,
      since: p.since,
      prefixesReceived: this.#rib.countFrom(p.config.address),
      prefixesSent: p.adjOut.size,
      ...(p.lastError ? { lastError: p.lastError } : {}),
    }));
  }

  #addPeer(c: PeerConfig): void {
    const address = c.address;
    const ownFamily = familyOf(address) || 4;
    const runtime: PeerRuntime = { config: c, adjOut: new AdjRibOut(), since: this.#clock.now(), endOfRib: new Set(), fsm: undefined as unknown as PeerFsm };
    runtime.fsm = new PeerFsm({
      session: {
        localAs: this.#o.asNumber,
        routerId: this.#o.routerId,
        peerAs: c.asNumber,
        holdTime: c.holdTime ?? 90,
        keepaliveTime: c.keepaliveTime,
        // Calico's model: one session per family, over an address of that family.
        families: [ownFamily],
        gracefulRestart: c.gracefulRestart === false ? undefined : this.#gracefulRestart(),
      },
      peerAddress: address,
      port: c.port ?? 179,
      localAddress: c.sourceAddress,
      ...(c.password ? { md5Key: c.password } : {}),
      passive: c.passive ?? false,
      clock: this.#clock,
      dial: this.#o.dial ?? tcpDialer,
      events: {
        stateChanged: (from, to) => {
          runtime.since = this.#clock.now();
          this.#log.info({ peer: runtime.config.name ?? address, address, from, to }, 'bgp: peer state');
        },
        established: (n, localAddress) => this.#established(runtime, n, localAddress),
        update: (u) => this.#update(runtime, u),
        routeRefresh: () => {
          runtime.adjOut.clear();
          this.#exportPeer(runtime, this.#allKeys());
        },
        down: (d) => this.#down(runtime, d),
        attemptFailed: (reason) => (runtime.lastError = reason),
      },
    });
    this.#peers.set(address, runtime);
    if (c.password && this.#server) this.#listenerKey(runtime, c.password);
    if (this.#started) runtime.fsm.start();
  }

  /** The graceful restart capability's settings, read by each OPEN (the bits change when the restart is over). */
  #gracefulRestart(): NonNullable<SessionConfig['gracefulRestart']> {
    const speaker = this;
    return {
      restartTime: this.#o.gracefulRestartTime ?? 120,
      get restarting() {
        return !!speaker.#o.restarted && !speaker.#converged;
      },
      get forwardingPreserved() {
        return !!speaker.#o.restarted || speaker.#converged;
      },
    };
  }

  /** Sets (or with '' removes) a peer's TCP MD5 key on the listener, so its incoming SYNs are checked too. */
  #listenerKey(p: PeerRuntime, key: string): void {
    if (!this.#server) return;
    try {
      setListenerMd5(this.#server, p.config.address, key);
    } catch (err) {
      p.lastError = `TCP MD5 key on the listener: ${(err as Error).message}`;
      this.#log.error({ peer: p.config.name ?? p.config.address, err: (err as Error).message }, 'bgp: cannot set the TCP MD5 key on the listener');
    }
  }

  #incoming(socket: net.Socket): void {
    const address = normalize(socket.remoteAddress ?? '');
    const p = this.#peers.get(address);
    if (!p) {
      this.#log.warn({ address }, 'bgp: connection from an address that is not a configured peer, closed');
      socket.destroy();
      return;
    }
    p.fsm.accept(new TcpConnection(socket));
  }

  #established(p: PeerRuntime, n: Negotiated, localAddress: string | undefined): void {
    p.negotiated = n;
    p.localAddress = localAddress;
    p.endOfRib.clear();
    p.lastError = undefined;
    p.adjOut.clear();
    this.#log.info({ peer: p.config.name ?? p.config.address, remoteAs: n.remoteAs, remoteId: n.remoteId, holdTime: n.holdTime, families: n.families }, 'bgp: session established');
    // A restarted peer that does not announce graceful restart again will not refresh its stale routes: drop them now.
    if (!n.peerGracefulRestart) this.#sweepStale(p);
    this.#exportPeer(p, this.#allKeys());
    p.fsm.send(n.families.map((f) => encodeEndOfRib(f)));
    // A peer without graceful restart counts as whole once up (#checkReady).
    this.#checkReady();
  }

  #update(p: PeerRuntime, u: DecodedUpdate): void {
    const n = p.negotiated!;
    const peer = p.config.address;
    if (u.treatAsWithdraw) this.#log.warn({ peer: p.config.name ?? peer, reason: u.treatAsWithdraw }, 'bgp: malformed UPDATE treated as withdraw (RFC 7606)');
    if (u.discarded.length) this.#log.warn({ peer: p.config.name ?? peer, discarded: u.discarded }, 'bgp: malformed attributes discarded (RFC 7606)');
    for (const family of [4, 6] as const) {
      for (const prefix of u.withdrawn[family]) this.#rib.withdraw(peer, family, prefix);
      if (!u.announced[family].length) continue;
      const verdict = checkAnnouncement(u, family, n, this.#importContext());
      if ('reject' in verdict) {
        this.#log.debug({ peer, reason: verdict.reject, prefixes: u.announced[family].length }, 'bgp: routes not accepted');
        for (const prefix of u.announced[family]) this.#rib.withdraw(peer, family, prefix);
        continue;
      }
      for (const prefix of u.announced[family]) {
        this.#rib.announce({ prefix, family, peer, peerAs: n.remoteAs, peerRouterId: n.remoteId, ibgp: n.ibgp, nextHop: verdict.nextHop, attributes: u.attributes, stale: false });
      }
    }
    if (u.endOfRib) {
      p.endOfRib.add(u.endOfRib);
      // RFC 4724 4.2: End-of-RIB ends the wait; what is still stale was not announced again.
      this.#sweepStale(p, u.endOfRib);
      this.#checkReady();
    }
    this.#routesChanged();
  }

  #down(p: PeerRuntime, d: SessionDown): void {
    const peer = p.config.address;
    const n = d.notification;
    const why = n ? `${n.sent ? 'sent' : 'received'} NOTIFICATION ${describeError(n.code, n.subcode)}` : d.reason;
    p.lastError = why;
    p.negotiated = undefined;
    p.adjOut.clear();
    if (d.graceful) {
      const seconds = d.negotiated.peerGracefulRestart!.time;
      const stale = this.#rib.markStale(peer);
      this.#log.warn({ peer: p.config.name ?? peer, reason: why, staleRoutes: stale, restartTime: seconds }, 'bgp: session down, keeping its routes for the graceful restart time');
      if (p.staleTimer !== undefined) this.#clock.clearTimeout(p.staleTimer);
      p.staleTimer = this.#clock.setTimeout(() => {
        p.staleTimer = undefined;
        this.#sweepStale(p);
      }, seconds * 1000);
    } else {
      const dropped = this.#rib.dropPeer(peer);
      this.#log.warn({ peer: p.config.name ?? peer, reason: why, routesRemoved: dropped }, 'bgp: session down');
    }
    this.#routesChanged();
  }

  #sweepStale(p: PeerRuntime, family?: Family): void {
    const swept = this.#rib.dropPeer(p.config.address, (path) => path.stale && (family === undefined || path.family === family));
    if (swept) this.#log.info({ peer: p.config.name ?? p.config.address, swept }, 'bgp: stale routes removed');
    if (family === undefined && p.staleTimer !== undefined) {
      this.#clock.clearTimeout(p.staleTimer);
      p.staleTimer = undefined;
    }
    if (swept) this.#routesChanged();
  }

  #checkReady(): void {
    if (!this.#readyResolve) return;
    for (const p of this.#peers.values()) {
      const n = p.negotiated;
      // A peer that did not announce graceful restart need not send End-of-RIB (GoBGP does not): waiting
      // for it would hold the first route sync for the whole ready timeout. Its routes flow in as they come.
      if (!n || (n.peerGracefulRestart && !n.families.every((f) => p.endOfRib.has(f)))) return;
    }
    this.#readyResolve();
  }

  #routesChanged(): void {
    const changed = this.#rib.takeChanged();
    if (!changed.size) return;
    if (this.#o.clusterId) this.#export(changed);
    for (const fn of this.#listeners) fn();
  }

  #allKeys(): Set<string> {
    const keys = new Set<string>(this.#local.keys());
    if (this.#o.clusterId) for (const paths of this.#rib.selected()) keys.add(`${paths[0].family}|${paths[0].prefix}`);
    return keys;
  }

  #export(keys: Set<string>): void {
    for (const p of this.#peers.values()) this.#exportPeer(p, keys);
  }

  #exportPeer(p: PeerRuntime, keys: Iterable<string>): void {
    const n = p.negotiated;
    if (!n || p.fsm.state !== 'Established') return;
    const peer: ExportPeer = { address: p.config.address, ibgp: n.ibgp, families: n.families, localAddress: p.localAddress, routeReflectorClient: !!p.config.routeReflectorClient, nextHopSelf: p.config.nextHopSelf };
    const ctx = this.#exportContext();
    const msgs = p.adjOut.diff(
      keys,
      (key) => {
        const local = this.#local.get(key);
        if (local) return ownAdvertisement(peer, local.family, ctx);
        const best = this.#rib.selectedFor(...splitKey(key))[0];
        return best ? reflectedAdvertisement(peer, best, ctx) : undefined;
      },
      n.fourOctetAs,
    );
    if (msgs.length) p.fsm.send(msgs);
  }

  #exportContext(): ExportContext {
    return {
      localAs: this.#o.asNumber,
      addresses: this.#o.addresses ?? {},
      clusterId: this.#o.clusterId,
      isClient: (address) => !!this.#peers.get(address)?.config.routeReflectorClient,
    };
  }

  #importContext(): ImportContext {
    const own = new Set<string>(Object.values(this.#o.addresses ?? {}).filter((a): a is string => !!a));
    for (const p of this.#peers.values()) if (p.localAddress) own.add(p.localAddress);
    return { localAs: this.#o.asNumber, routerId: this.#o.routerId, clusterId: this.#o.clusterId, ownAddresses: own };
  }
}

function splitKey(key: string): [Family, string] {
  const bar = key.indexOf('|');
  return [Number(key.slice(0, bar)) as Family, key.slice(bar + 1)];
}
