// A RouteTable in memory, with foreign routes beside netlet's, for unit
// tests of the syncer and the component (the real one is netlink-route-table.ts).
// Mirrors the kernel's rule that matters here: one route per destination and
// metric, whoever owns it (EEXIST otherwise).

import { NODE_ROUTES_PROTOCOL, sameRoute } from './route-table.ts';
import type { NodeRoute, RouteTable } from './route-table.ts';

export interface MemoryRoute extends NodeRoute {
  protocol: number;
}

export class MemoryRouteTable implements RouteTable {
  readonly routes: MemoryRoute[] = [];
  /** Destinations whose add fails, to test error paths. */
  readonly failAdd = new Set<string>();
  closed = false;

  readonly #owned: ReadonlySet<number>;

  /** `protocols`: owned besides NODE_ROUTES_PROTOCOL, as NetlinkRouteTable's. */
  constructor(protocols: readonly number[] = []) {
    this.#owned = new Set([NODE_ROUTES_PROTOCOL, ...protocols]);
  }

  async listOwned(): Promise<NodeRoute[]> {
    return this.routes.filter((r) => this.#owned.has(r.protocol)).map(({ protocol, ...r }) => (protocol === NODE_ROUTES_PROTOCOL ? r : { ...r, protocol }));
  }

  async add(route: NodeRoute): Promise<void> {
    if (this.failAdd.has(route.dst)) throw new Error(`add ${route.dst}: ENETUNREACH`);
    if (this.routes.some((r) => r.dst === route.dst && (r.metric ?? 0) === (route.metric ?? 0))) {
      throw new Error(`add ${route.dst}: EEXIST`);
    }
    this.routes.push({ ...route, protocol: route.protocol ?? NODE_ROUTES_PROTOCOL });
  }

  async remove(route: NodeRoute): Promise<boolean> {
    const i = this.routes.findIndex((r) => this.#owned.has(r.protocol) && sameRoute(route, r));
    if (i < 0) return false;
    this.routes.splice(i, 1);
    return true;
  }

  close(): void {
    this.closed = true;
  }
}
