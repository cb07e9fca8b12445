// The agent's routes component: keeps this node's routes to other nodes'
// blocks (and the blackholes for its own) in step with the store. Nothing is
// applied before Nodes and IPAMBlocks have been synced once (an empty store
// would otherwise delete every route); after that, each change to a Node or
// an IPAMBlock schedules a sync, and a periodic full sync repairs routes
// someone else deleted. Stopping leaves the routes in place.

import { Counter, Gauge } from 'prom-client';
import type { Component, ComponentContext } from '../base/component.ts';
import type { ObjectStore } from '../k8s/store.ts';
import { routeMode } from './modes.ts';
import type { RouteMode } from './modes.ts';
import { planRoutes } from './route-planner.ts';
import { RouteSyncer } from './route-syncer.ts';
import type { RouteTable } from './route-table.ts';

export type RoutesContext = ComponentContext & { store: ObjectStore };

export interface RoutesComponentOptions {
  /** routes.mode: how other nodes' blocks are reached (default direct). */
  mode?: string;
  /** The table to program; default: the main table of the agent's network namespace, over netlink. */
  table?: RouteTable;
  /** Full resync period (ms). */
  resyncMs?: number;
  /** Changes arriving within this window are merged into one sync (ms). */
  debounceMs?: number;
}

export class RoutesComponent implements Component {
  readonly name = 'routes';
  readonly #ctx: RoutesContext;
  readonly #mode: RouteMode;
  readonly #opts: Required<Omit<RoutesComponentOptions, 'table' | 'mode'>>;
  #table: RouteTable | undefined;
  readonly #ownsTable: boolean;
  #syncer: RouteSyncer | undefined;
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #resync: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #synced = false;
  #stopped = false;
  #failures = 0;
  #routeErrorStreak = 0;
  #lastSkipped = '';
  readonly #installed: Gauge;
  readonly #syncErrors: Counter;

  constructor(ctx: RoutesContext, opts: RoutesComponentOptions = {}) {
    this.#ctx = ctx;
    this.#mode = routeMode(opts.mode ?? 'direct');
    this.#table = opts.table;
    this.#ownsTable = !opts.table;
    this.#opts = { resyncMs: opts.resyncMs ?? 30_000, debounceMs: opts.debounceMs ?? 50 };
    this.#installed = new Gauge({ name: 'netlet_routes_desired', help: 'Routes to other nodes\' blocks and blackholes this node should have.', registers: [ctx.metrics] });
    this.#syncErrors = new Counter({ name: 'netlet_routes_sync_errors_total', help: 'Routes that could not be added or removed.', registers: [ctx.metrics] });
  }

  async start(): Promise<void> {
    const { NetlinkRouteTable } = await import('./netlink-route-table.ts');
    this.#table ??= new NetlinkRouteTable();
    this.#syncer = new RouteSyncer(this.#table, this.#ctx.log);
    this.#unsubscribe = this.#ctx.store.subscribe((change) => {
      if (change.kind === 'Node' || change.kind === 'IPAMBlock') this.#schedule(this.#opts.debounceMs);
    });
    void this.#ctx.store.whenSynced('Node', 'IPAMBlock').then(() => {
      this.#synced = true;
      this.#schedule(0);
    });
    this.#resync = setInterval(() => this.#schedule(0), this.#opts.resyncMs);
    this.#resync.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    clearInterval(this.#resync);
    await this.#running;
    if (this.#ownsTable) this.#table?.close();
  }

  healthy(): boolean {
    return this.#failures < 3;
  }

  /** Resolves when no sync is pending or running (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    while (this.#running || this.#timer) {
      await (this.#running ?? new Promise((r) => setTimeout(r, this.#opts.debounceMs)));
    }
  }

  #schedule(delayMs: number): void {
    if (!this.#synced || this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#sync().finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#schedule(0);
        }
      });
    }, delayMs);
  }

  async #sync(): Promise<void> {
    const { store, nodeName, log } = this.#ctx;
    const plan = planRoutes({ nodeName, nodes: store.list('Node'), blocks: store.list('IPAMBlock') }, this.#mode);
    this.#installed.set(plan.routes.length);
    const skipped = JSON.stringify(plan.skipped);
    if (skipped !== this.#lastSkipped) {
      this.#lastSkipped = skipped;
      for (const s of plan.skipped) log.warn(s, 'routes: no route for a prefix');
    }
    try {
      const r = await this.#syncer!.sync(plan.routes);
      this.#failures = 0;
      if (r.errors.length) {
        this.#syncErrors.inc(r.errors.length);
        // Retry sooner than the next full resync (a next hop may just not be reachable yet), backing off
        // so that a route that cannot work (a node on another subnet in direct mode) does not flood the log.
        this.#routeErrorStreak++;
        setTimeout(() => this.#schedule(0), Math.min(1000 * 2 ** (this.#routeErrorStreak - 1), this.#opts.resyncMs)).unref();
      } else {
        this.#routeErrorStreak = 0;
      }
      if (r.added || r.removed) log.info({ added: r.added, removed: r.removed, errors: r.errors.length, source: plan.source }, 'routes: synced');
    } catch (err) {
      this.#failures++;
      log.error({ err: (err as Error).message }, 'routes: sync failed');
      setTimeout(() => this.#schedule(0), Math.min(1000 * 2 ** this.#failures, 30_000)).unref();
    }
  }
}
