// The agent's routes component: keeps this node's routes to other nodes'
// prefixes (and the blackholes for its own) in step with its route sources
// — the store's Nodes and IPAMBlocks, plus any source given in the options.
// Nothing is applied before every source is ready (the store: Nodes and
// IPAMBlocks synced once; an empty store would otherwise delete every
// route); after that, each change a source reports schedules a sync, changes
// within the debounce window are merged into one (and diffed against what
// the last sync left, without listing the kernel table), and a periodic full
// sync lists the table and repairs routes someone else deleted. The timing is the shared bounded
// runner's (base/bounded-frequency-runner.ts). Stopping leaves the routes in
// place.

import { Counter, Gauge } from 'prom-client';
import { BoundedFrequencyRunner } from '../base/bounded-frequency-runner.ts';
import type { Clock } from '../base/bounded-frequency-runner.ts';
import type { Component, ComponentContext } from '../base/component.ts';
import type { ObjectStore } from '../k8s/store.ts';
import { applyRoutePlan } from './apply-plan.ts';
import { assertUniqueSourceNames } from './merge-claims.ts';
import { ROUTE_MODE_NAMES, assertRouteModeName, routeMode } from './modes.ts';
import type { RouteMode, RouteModeOptions } from './modes.ts';
import { planFromSources } from './route-planner.ts';
import type { RouteSource, SkippedPrefix } from './route-source.ts';
import { RouteSyncer } from './route-syncer.ts';
import type { RouteTable } from './route-table.ts';
import { StoreRouteSource } from './store-route-source.ts';

export type RoutesContext = ComponentContext & { store: ObjectStore };

export interface RoutesComponentOptions {
  /** routes.mode: how other nodes' prefixes are reached (default direct), by name or as a built mode. */
  mode?: string | RouteMode;
  /** What a mode given by name is built with (encapsulation, VXLAN settings, the namespace to program). */
  modeOptions?: RouteModeOptions;
  /** Sources beside the store's (routes learned over BGP; a fake in tests). */
  sources?: RouteSource[];
  /** The table to program; default: the main table of the agent's network namespace, over netlink. */
  table?: RouteTable;
  /** Full resync period (ms). */
  resyncMs?: number;
  /** Changes arriving within this window are merged into one sync (ms). */
  debounceMs?: number;
  /** For tests that drive time by hand. */
  clock?: Clock;
  /** The store claims only this node's own prefixes; other nodes' come from `sources` (BGP). */
  storeOwnOnly?: boolean;
  /** rtm_protocols the default table owns besides NODE_ROUTES_PROTOCOL (BGP_ROUTES_PROTOCOL with the speaker). */
  protocols?: number[];
}

/** healthy() turns false after this many syncs in a row failed as a whole. */
const FAILED_SYNCS_UNHEALTHY = 3;
/** Ceiling of the retry delay after a failed sync (ms). */
const FAILED_SYNC_RETRY_MAX_MS = 30_000;

export class RoutesComponent implements Component {
  readonly name = 'routes';
  readonly #ctx: RoutesContext;
  readonly #modeChoice: string | RouteMode;
  readonly #modeOptions: RouteModeOptions;
  #mode!: RouteMode;
  readonly #store: StoreRouteSource;
  readonly #sources: RouteSource[];
  /** The other modes' devices are removed once, after the first sync that worked (a mode switch leaves nothing behind). */
  #othersCleaned = false;
  readonly #resyncMs: number;
  readonly #debounceMs: number;
  readonly #clock: Clock | undefined;
  readonly #protocols: number[];
  #table: RouteTable | undefined;
  readonly #ownsTable: boolean;
  #syncer: RouteSyncer | undefined;
  #runner: BoundedFrequencyRunner | undefined;
  #unwatch: Array<() => void> = [];
  /** The sync in progress, for idle(). */
  #running: Promise<void> | undefined;
  /** A sync was asked for (start, a change) and has not begun yet, for idle(). */
  #requested = false;
  #started = false;
  #stopped = false;
  #failures = 0;
  #routeErrorStreak = 0;
  #lastSkipped = '';
  /**
   * How long the last sync's planning held the thread (ms): the least wait
   * before the next one a source asks for. Only the planning: the kernel
   * changes go in batches awaited in turn, between which the speaker reads.
   */
  #lastPlanMs = 0;
  readonly #installed: Gauge;
  readonly #syncErrors: Counter;

  constructor(ctx: RoutesContext, opts: RoutesComponentOptions = {}) {
    this.#ctx = ctx;
    const mode = opts.mode ?? 'direct';
    if (typeof mode === 'string') assertRouteModeName(mode);
    this.#modeChoice = mode;
    this.#modeOptions = opts.modeOptions ?? {};
    this.#store = new StoreRouteSource(ctx.store, ctx.nodeName, { ownOnly: opts.storeOwnOnly });
    this.#sources = [this.#store, ...(opts.sources ?? [])];
    this.#protocols = opts.protocols ?? [];
    assertUniqueSourceNames(this.#sources);
    this.#table = opts.table;
    this.#ownsTable = !opts.table;
    this.#resyncMs = opts.resyncMs ?? 30_000;
    this.#debounceMs = opts.debounceMs ?? 50;
    this.#clock = opts.clock;
    this.#installed = new Gauge({ name: 'netlet_routes_desired', help: 'Routes to other nodes\' blocks and blackholes this node should have.', registers: [ctx.metrics] });
    this.#syncErrors = new Counter({ name: 'netlet_routes_sync_errors_total', help: 'Routes that could not be added or removed.', registers: [ctx.metrics] });
  }

  async start(): Promise<void> {
    this.#mode = typeof this.#modeChoice === 'string' ? await routeMode(this.#modeChoice, this.#modeOptions) : this.#modeChoice;
    const { NetlinkRouteTable } = await import('./netlink-route-table.ts');
    this.#table ??= new NetlinkRouteTable(undefined, this.#protocols);
    this.#syncer = new RouteSyncer(this.#table, this.#ctx.log);
    const runner = new BoundedFrequencyRunner(() => this.#syncOnce(), {
      name: 'routes',
      // minInterval is the debounce window: a burst of changes after a sync waits it out and becomes one sync.
      minIntervalMs: this.#debounceMs,
      maxIntervalMs: this.#resyncMs,
      clock: this.#clock,
      onError: (err) => this.#ctx.log.error({ err }, 'routes: sync crashed'),
    });
    this.#runner = runner;
    this.#unwatch = this.#sources.map((s) => s.watch(() => this.#request()));
    void Promise.all(this.#sources.map((s) => s.ready())).then(() => {
      if (this.#stopped) return;
      this.#started = true;
      this.#requested = true;
      runner.start();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const unwatch of this.#unwatch) unwatch();
    await this.#runner?.stop();
    this.#mode?.close?.();
    if (this.#ownsTable) this.#table?.close();
  }

  healthy(): boolean {
    return this.#failures < FAILED_SYNCS_UNHEALTHY;
  }

  /** Resolves when no sync is pending or running (for tests and orderly shutdown); retries of failures do not count. */
  async idle(): Promise<void> {
    while (this.#running || this.#requested) {
      await (this.#running ?? new Promise((r) => setTimeout(r, this.#debounceMs)));
    }
  }

  /**
   * A source changed: sync after the debounce window (retryAfter keeps the
   * soonest, so later changes join this sync), or after as long as the last
   * sync's planning took if that is longer: while a BGP peer sends a full
   * table, each sync plans every route, and back-to-back syncs would starve
   * the speaker reading the rest on the same thread.
   */
  #request(): void {
    if (!this.#started || this.#stopped) return;
    this.#requested = true;
    this.#runner!.retryAfter(Math.max(this.#debounceMs, this.#lastPlanMs));
  }

  #syncOnce(): Promise<void> {
    // A sync a source asked for diffs against the last sync's result; the periodic and retry syncs list the kernel table.
    const fromLastSync = this.#requested;
    this.#requested = false;
    const running = this.#sync(fromLastSync).finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  async #sync(fromLastSync = false): Promise<void> {
    const { log } = this.#ctx;
    try {
      // Inside the try: a source whose claims() throws fails the sync like a failing table does (counted, retried).
      const makePlan = () => {
        const started = performance.now();
        const planned = planFromSources(this.#sources, this.#mode);
        this.#lastPlanMs = performance.now() - started;
        return planned;
      };
      const { plan, result: r } = await applyRoutePlan(makePlan, this.#store.self(), this.#mode, this.#syncer!, { fromLastSync });
      this.#installed.set(plan.routes.length);
      this.#reportSkipped(plan.skipped);
      this.#failures = 0;
      if (!this.#othersCleaned && typeof this.#modeChoice === 'string') await this.#cleanOtherModes();
      if (r.errors.length) {
        this.#syncErrors.inc(r.errors.length);
        // Retry sooner than the next full resync (a next hop may just not be reachable yet), backing off
        // so that a route that cannot work (a node on another subnet in direct mode) does not flood the log.
        this.#routeErrorStreak++;
        this.#runner!.retryAfter(Math.min(1000 * 2 ** (this.#routeErrorStreak - 1), this.#resyncMs));
      } else {
        this.#routeErrorStreak = 0;
      }
      if (r.added || r.removed) log.info({ added: r.added, removed: r.removed, errors: r.errors.length, peers: plan.peers.length }, 'routes: synced');
    } catch (err) {
      this.#failures++;
      log.error({ err: (err as Error).message }, 'routes: sync failed');
      this.#runner!.retryAfter(Math.min(1000 * 2 ** this.#failures, FAILED_SYNC_RETRY_MAX_MS));
    }
  }

  /**
   * Removes what the other modes left (a node switched from vxlan to direct
   * keeps no VXLAN device). After the first sync, so that the routes of the
   * old mode are already replaced when its devices go. A failure is logged
   * and tried again on the next sync.
   */
  async #cleanOtherModes(): Promise<void> {
    for (const name of ROUTE_MODE_NAMES) {
      if (name === this.#mode.name) continue;
      try {
        await (await routeMode(name, this.#modeOptions)).cleanup?.();
      } catch (err) {
        this.#ctx.log.warn({ mode: name, err: (err as Error).message }, 'routes: could not remove the state of another mode');
        return;
      }
    }
    this.#othersCleaned = true;
  }

  /** Logs the prefixes without a route when that list changed, not on every sync. */
  #reportSkipped(skipped: readonly SkippedPrefix[]): void {
    const text = JSON.stringify(skipped);
    if (text === this.#lastSkipped) return;
    this.#lastSkipped = text;
    for (const s of skipped) this.#ctx.log.warn(s, 'routes: no route for a prefix');
  }
}
