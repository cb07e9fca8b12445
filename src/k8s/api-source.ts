import type { Logger } from 'pino';
import { silentLogger } from './quiet-log.ts';
import type { ApiClient } from './client.ts';
import { describeApiFailure } from './api-failure.ts';
import type { ApiFailure } from './api-failure.ts';
import { converterFor } from './convert/index.ts';
import type { LeanKind } from './convert/index.ts';
import type { ApiMetrics } from './api-metrics.ts';
import type { AnyObject, Kind } from './objects.ts';
import { Reflector } from './reflector.ts';
import type { ReflectorOptions } from './reflector.ts';
import { resourceSpec } from './resources.ts';
import type { ObjectStore } from './store.ts';

/** The last known state on disk, as the offline fallback needs it. */
export interface SnapshotAccess {
  /** Where it lives, for logs. */
  readonly path: string;
  /** The saved objects and when they were saved; undefined when there is no snapshot yet. */
  load(): Promise<{ time: Date; objects: Iterable<AnyObject> } | undefined>;
  /** Starts keeping the snapshot up to date with the store; `stop` flushes. */
  startWriting(): { stop(): Promise<void> };
}

export interface ApiSourceOptions {
  client: ApiClient;
  store: ObjectStore;
  kinds: readonly Kind[];
  log?: Logger;
  metrics?: ApiMetrics;
  /** Field/label selectors per kind. */
  selectors?: Partial<Record<Kind, { fieldSelector?: string; labelSelector?: string }>>;
  snapshot?: SnapshotAccess;
  /** Kinds kept in their lean form (convert/lean.ts): for consumers that read only names and addresses. */
  lean?: readonly LeanKind[];
  /** Passed to every reflector (tests shorten timeouts and backoff here). */
  reflector?: Pick<ReflectorOptions, 'pageSize' | 'stallTimeoutMs' | 'watchTimeoutSeconds'> & { backoff?: () => ReflectorOptions['backoff'] };
}

/**
 * Fills the store from the API server, one reflector per kind, with the
 * offline fallback (docs/api-access.md: an edge node that lost its API server
 * keeps serving its last known state). When the first LIST fails and a
 * snapshot exists, the kinds not yet listed are loaded from it and marked
 * synced, and the source reports itself offline; the reflectors keep
 * retrying, and each one's first successful LIST replaces the snapshot's
 * objects through `replaceAll`, so consumers see only real differences. Once
 * every kind is listed from the API the source is online again. The snapshot
 * is written only from a store fully synced with the API, so a half-synced
 * store never overwrites a good snapshot.
 */
export class ApiSource {
  readonly #store: ObjectStore;
  readonly #kinds: readonly Kind[];
  readonly #log: Logger;
  readonly #metrics: ApiMetrics | undefined;
  readonly #snapshot: SnapshotAccess | undefined;
  readonly #reflectors: Reflector[];
  #offline = false;
  #snapshotTime: Date | undefined;
  #writer: { stop(): Promise<void> } | undefined;
  #firstFailure: ((failure: { err: unknown; why: ApiFailure }) => void) | undefined;
  /** The API failed at start: its recovery is worth an info line once every kind is listed. */
  #failedAtStart = false;
  #fallback: Promise<void> | undefined;
  #stopped = false;

  constructor(options: ApiSourceOptions) {
    this.#store = options.store;
    this.#kinds = options.kinds;
    this.#log = options.log ?? silentLogger;
    this.#metrics = options.metrics;
    this.#snapshot = options.snapshot;
    const r = options.reflector ?? {};
    this.#reflectors = options.kinds.map(
      (kind) =>
        new Reflector({
          client: options.client,
          store: options.store,
          resource: resourceSpec(kind, options.selectors?.[kind]),
          log: this.#log,
          metrics: options.metrics,
          pageSize: r.pageSize,
          stallTimeoutMs: r.stallTimeoutMs,
          watchTimeoutSeconds: r.watchTimeoutSeconds,
          backoff: r.backoff?.(),
          onError: (err, phase) => {
            if (phase === 'list' && !this.#allListed()) this.#firstFailure?.({ err, why: describeApiFailure(err, phase, rbacName(kind)) });
          },
          onListed: () => this.#listed(),
          convert: converterFor(kind, options.lean),
          lean: options.lean?.includes(kind as LeanKind),
        }),
    );
  }

  /** True while the store holds snapshot data for at least one kind. */
  get offline(): boolean {
    return this.#offline;
  }

  /**
   * Starts the reflectors; resolves once every kind is synced from the API,
   * or, when the API cannot be reached, after the snapshot (if any) is loaded.
   */
  async start(): Promise<void> {
    const failed = new Promise<{ err: unknown; why: ApiFailure }>((resolve) => (this.#firstFailure = resolve));
    for (const r of this.#reflectors) r.start();
    const outcome = await Promise.race([this.#store.whenSynced(...this.#kinds).then(() => 'synced' as const), failed]);
    this.#firstFailure = undefined;
    if (outcome === 'synced') return;
    this.#failedAtStart = true;
    this.#fallback = this.#loadSnapshot(outcome);
    await this.#fallback;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#reflectors.map((r) => r.stop()));
    await this.#fallback;
    await this.#writer?.stop();
    this.#writer = undefined;
  }

  /** Synced from the API or from the snapshot. */
  healthy(): boolean {
    return this.#store.isSynced(...this.#kinds);
  }

  details(): Record<string, unknown> {
    return this.#offline ? { offline: true, snapshotTime: this.#snapshotTime?.toISOString() } : {};
  }

  #allListed(): boolean {
    return this.#reflectors.every((r) => r.listed);
  }

  async #loadSnapshot(failure: { err: unknown; why: ApiFailure }): Promise<void> {
    const cause = failure.err;
    const reason = (cause as Error)?.message ?? String(cause);
    // "API server unreachable", "forbidden by RBAC: list services (…)", "unauthorized: …": what to fix differs.
    const { headline, fields } = failure.why;
    if (!this.#snapshot) {
      this.#log.error({ err: reason, ...fields }, `${headline} at start; no snapshot configured; waiting for it`);
      return;
    }
    let saved: Awaited<ReturnType<SnapshotAccess['load']>>;
    try {
      saved = await this.#snapshot.load();
    } catch (err) {
      this.#log.error({ err: (err as Error).message, cause: reason, ...fields, snapshot: this.#snapshot.path }, `${headline} and the snapshot cannot be read; waiting for the API`);
      return;
    }
    if (!saved) {
      this.#log.error({ err: reason, ...fields, snapshot: this.#snapshot.path }, `${headline} at start; there is no snapshot yet; waiting for it`);
      return;
    }
    if (this.#stopped || this.#allListed()) return;
    const byKind = new Map<Kind, AnyObject[]>(this.#kinds.map((k) => [k, []]));
    for (const obj of saved.objects) byKind.get(obj.kind)?.push(obj);
    const loaded: Kind[] = [];
    for (const r of this.#reflectors) {
      const kind = r.resource.kind;
      if (r.listed) continue; // this kind already came from the API: keep it
      this.#store.replaceAll(kind, (byKind.get(kind) ?? []) as never[]);
      this.#store.markSynced(kind);
      loaded.push(kind);
    }
    this.#offline = true;
    this.#snapshotTime = saved.time;
    this.#metrics?.offline.set(1);
    this.#log.warn(
      { err: reason, ...fields, snapshot: this.#snapshot.path, snapshotTime: saved.time.toISOString(), kinds: loaded },
      `${headline}: serving the last known state from the snapshot (offline); still retrying the API`,
    );
  }

  #listed(): void {
    if (!this.#allListed()) return;
    if (this.#offline) {
      this.#offline = false;
      this.#snapshotTime = undefined;
      this.#metrics?.offline.set(0);
      this.#log.info('API server reachable again: the snapshot is replaced by the live state (online)');
    } else if (this.#failedAtStart) {
      this.#log.info({ kinds: this.#kinds }, 'API server answers now: every kind is listed (synced)');
    }
    this.#failedAtStart = false;
    if (this.#snapshot && !this.#writer && !this.#stopped) this.#writer = this.#snapshot.startWriting();
  }
}

/** The resource as RBAC rules name it ("services", "endpointslices.discovery.k8s.io"). */
function rbacName(kind: Kind): string {
  const spec = resourceSpec(kind);
  return spec.group ? `${spec.resource}.${spec.group}` : spec.resource;
}
