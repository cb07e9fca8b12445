// Stand-ins for the routes tests: a "learned" route source (what a BGP
// speaker will be), a mode that records its hook calls, and a memory table
// that writes its adds and removes to the same journal, so a test can check
// the order of hooks and route changes. And an IPAMBlock maker.
import { familyOf } from '../../../src/base/family.ts';
import type { IPAMBlock } from '../../../src/k8s/objects.ts';
import { MemoryRouteTable } from '../../../src/routes/memory-route-table.ts';
import type { RouteMode } from '../../../src/routes/modes.ts';
import type { Peer } from '../../../src/routes/peer.ts';
import type { RouteClaim, RouteSource, SourceClaims } from '../../../src/routes/route-source.ts';
import { describeRoute } from '../../../src/routes/route-table.ts';
import type { NodeRoute } from '../../../src/routes/route-table.ts';

let rv = 100;
/** An IPAMBlock of `owner`. */
export const block = (cidr: string, owner: string): IPAMBlock => ({
  kind: 'IPAMBlock',
  meta: { namespace: '', name: cidr.replace(/[.:/]/g, '-'), uid: `u-${cidr}`, resourceVersion: String(rv++) },
  cidr,
  node: owner,
  pool: 'default',
});

export class LearnedSource implements RouteSource {
  readonly name: string;
  readonly priority: number;
  readonly #claims = new Map<string, RouteClaim>();
  readonly #listeners = new Set<() => void>();
  readonly #ready: Promise<void>;
  #markReady!: () => void;

  constructor(name = 'learned', priority = 20) {
    this.name = name;
    this.priority = priority;
    this.#ready = new Promise((r) => (this.#markReady = r));
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  markReady(): void {
    this.#markReady();
  }

  learn(dst: string, peer: Peer): void {
    const family = familyOf(dst);
    if (family === 0) throw new TypeError(dst);
    this.#claims.set(dst, { dst, family, node: peer.name, peer });
    this.#changed();
  }

  withdraw(dst: string): void {
    this.#claims.delete(dst);
    this.#changed();
  }

  claims(): SourceClaims {
    return { claims: [...this.#claims.values()], skipped: [] };
  }

  watch(onChange: () => void): () => void {
    this.#listeners.add(onChange);
    return () => this.#listeners.delete(onChange);
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }
}

/** A tunnel-like mode: routes `via <underlay> dev fake0 onlink`, and journals its hooks. */
export class RecordingMode implements RouteMode {
  readonly name = 'fake';
  readonly journal: string[];
  /** Set to make ensureDevices throw. */
  failDevices: Error | undefined;
  /** The peers of the last syncNeighbours call. */
  neighbours: string[] = [];

  constructor(journal: string[]) {
    this.journal = journal;
  }

  routeTo(dst: string, family: 4 | 6, peer: Peer): NodeRoute | { skip: string } {
    const gateway = peer.addresses[family];
    if (!gateway) return { skip: `peer ${peer.name} has no IPv${family} address` };
    return { dst, family, type: 'unicast', gateway, dev: 'fake0', onlink: true };
  }

  async ensureDevices(): Promise<void> {
    this.journal.push('ensureDevices');
    if (this.failDevices) throw this.failDevices;
  }

  async syncNeighbours(peers: readonly Peer[]): Promise<void> {
    this.neighbours = peers.map((p) => `${p.name} ${Object.values(p.addresses).join(',')}`);
    this.journal.push(`syncNeighbours ${peers.map((p) => p.name).join(',')}`);
  }

  async cleanup(): Promise<void> {
    this.journal.push('cleanup');
  }
}

export class JournaledTable extends MemoryRouteTable {
  readonly journal: string[];

  constructor(journal: string[]) {
    super();
    this.journal = journal;
  }

  override async add(route: NodeRoute): Promise<void> {
    this.journal.push(`add ${describeRoute(route)}`);
    await super.add(route);
  }

  override async remove(route: NodeRoute): Promise<boolean> {
    this.journal.push(`remove ${describeRoute(route)}`);
    return super.remove(route);
  }
}
