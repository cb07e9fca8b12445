import type { Logger } from 'pino';
import { silentLogger } from './quiet-log.ts';
import { ApiError, apiErrorFromStatus } from './api-errors.ts';
import { describeApiFailure } from './api-failure.ts';
import type { StatusObject } from './api-errors.ts';
import { Backoff, sleep } from './backoff.ts';
import type { ApiClient, RawJson } from './client.ts';
import { convertObject, sameLeanObject } from './convert/index.ts';
import type { ApiMetrics } from './api-metrics.ts';
import { objectKey } from './objects.ts';
import type { AnyObject } from './objects.ts';
import { collectionPath, selectorQuery } from './resources.ts';
import type { ResourceSpec } from './resources.ts';
import type { ObjectStore } from './store.ts';

export interface ReflectorOptions {
  client: ApiClient;
  store: ObjectStore;
  resource: ResourceSpec;
  log?: Logger;
  metrics?: ApiMetrics;
  /** LIST page size (limit/continue). */
  pageSize?: number;
  /** timeoutSeconds of each WATCH; default random in [300, 600) like client-go's reflector. */
  watchTimeoutSeconds?: () => number;
  /** A watch that sends nothing, not even a bookmark, for this long is restarted. */
  stallTimeoutMs?: number;
  backoff?: Backoff;
  /** Called when a LIST or WATCH attempt fails (the reflector retries by itself). */
  onError?: (err: unknown, phase: 'list' | 'watch') => void;
  /** Called after every successful LIST (the store now holds the API's view of this kind). */
  onListed?: () => void;
  /** Raw object → slim object; default the kind's full converter. */
  convert?: (raw: unknown) => AnyObject;
  /**
   * `convert` makes lean objects (convert/lean.ts): they have no
   * resourceVersion, so an object whose content is what the store holds is
   * replaced by the held one (no change for the store, no event).
   */
  lean?: boolean;
}

/** client-go: minWatchTimeout 5 min, each watch asks for a random duration in [min, 2·min). */
const defaultWatchTimeout = (): number => Math.floor(300 * (1 + Math.random()));

// kube-apiserver sends every watcher a bookmark about once a minute when
// allowWatchBookmarks is set, so three silent minutes mean a dead stream.
const DEFAULT_STALL_MS = 180_000;

/** A watch that ends this soon with nothing in it counts as a failure (backoff), not a normal end. */
const SHORT_WATCH_MS = 1000;

/** The most invalid objects logged one by one per list; the rest are counted in one line. */
const MAX_INVALID_LOGGED = 20;

class GoneError extends Error {}

/**
 * Keeps the store's objects of one kind in line with the API server
 * (client-go's ListAndWatch): LIST in pages, then WATCH from the list's
 * resourceVersion with bookmarks. When a watch ends, fails or stalls it is
 * resumed from the last resourceVersion seen (events and bookmarks) without a
 * relist; only 410 Gone (the resourceVersion was compacted away) relists, and
 * the relist goes through `replaceAll`, so consumers see only real
 * differences. Objects that fail conversion are logged and skipped; the
 * store keeps their last good version ("never poison the store").
 */
export class Reflector {
  readonly resource: ResourceSpec;
  readonly #client: ApiClient;
  readonly #store: ObjectStore;
  readonly #log: Logger;
  readonly #metrics: ApiMetrics | undefined;
  readonly #pageSize: number;
  readonly #watchTimeout: () => number;
  readonly #stallMs: number;
  readonly #backoff: Backoff;
  readonly #onError: ReflectorOptions['onError'];
  readonly #onListed: ReflectorOptions['onListed'];
  readonly #convert: (raw: unknown) => AnyObject;
  readonly #lean: boolean;
  readonly #abort = new AbortController();
  readonly #path: string;
  #loop: Promise<void> | undefined;
  #rv = '';
  #listed = false;
  /** The last LIST got 404: the resource (a CRD) is not installed. */
  #notServed = false;
  /** Events received by the current (or last) watch. */
  #watchEvents = 0;
  /** Failed LIST/WATCH attempts since the last success, and when the first of them was. */
  #failures = 0;
  #failingSince = 0;
  /** The resource as RBAC rules name it: "services", "endpointslices.discovery.k8s.io". */
  readonly #rbacName: string;

  constructor(options: ReflectorOptions) {
    this.resource = options.resource;
    this.#client = options.client;
    this.#store = options.store;
    this.#log = (options.log ?? silentLogger).child({ resource: options.resource.resource });
    this.#metrics = options.metrics;
    this.#pageSize = options.pageSize ?? 500;
    this.#watchTimeout = options.watchTimeoutSeconds ?? defaultWatchTimeout;
    this.#stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_MS;
    this.#backoff = options.backoff ?? new Backoff();
    this.#onError = options.onError;
    this.#onListed = options.onListed;
    const kind = options.resource.kind;
    this.#convert = options.convert ?? ((raw) => convertObject(kind, raw));
    this.#lean = options.lean ?? false;
    this.#path = collectionPath(options.resource);
    this.#rbacName = options.resource.group ? `${options.resource.resource}.${options.resource.group}` : options.resource.resource;
  }

  /** The last resourceVersion seen (list, event or bookmark). */
  get resourceVersion(): string {
    return this.#rv;
  }

  /** True once a LIST has succeeded (the store holds the API's view, not a snapshot's). */
  get listed(): boolean {
    return this.#listed;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let needList = true;
    while (!signal.aborted) {
      let phase: 'list' | 'watch' = needList ? 'list' : 'watch';
      try {
        if (needList) {
          await this.#list();
          needList = false;
          this.#backoff.reset();
          this.#recovered('list');
        }
        phase = 'watch';
        const { events, ms } = await this.#watch();
        if (signal.aborted) break;
        this.#metrics?.watchRestarts.inc({ resource: this.resource.resource });
        if (events === 0 && ms < SHORT_WATCH_MS) {
          this.#log.debug({ rv: this.#rv }, 'watch ended at once; backing off');
          await sleep(this.#backoff.next(), signal);
        } else {
          this.#backoff.reset();
        }
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof GoneError || (err instanceof ApiError && err.status === 410)) {
          // The resourceVersion was compacted: only a fresh LIST can resync.
          this.#log.info({ rv: this.#rv, err: (err as Error).message }, 'resourceVersion too old; relisting');
          this.#metrics?.relists.inc({ resource: this.resource.resource });
          if (phase === 'list') await sleep(this.#backoff.next(), signal);
          needList = true;
          continue;
        }
        if (phase === 'list' && err instanceof ApiError && err.status === 404) {
          // A CRD (IPAMBlock) that is not installed: the API's answer is "none
          // of these", so the kind is empty and synced, not broken; keep
          // checking in case the CRD is installed later.
          if (!this.#notServed) this.#log.warn({ path: this.#path }, 'resource not served by the API server; treating it as empty and retrying');
          this.#notServed = true;
          this.#store.replaceAll(this.resource.kind, []);
          this.#listed = true;
          this.#store.markSynced(this.resource.kind);
          this.#onListed?.();
          await sleep(this.#backoff.next(), signal);
          continue;
        }
        this.#onError?.(err, phase);
        if (phase === 'watch') {
          this.#metrics?.watchRestarts.inc({ resource: this.resource.resource });
          // A watch that worked for a while before failing starts the backoff over.
          if (this.#watchEvents > 0) this.#backoff.reset();
        }
        const delay = Math.max(this.#backoff.next(), retryAfterMs(err));
        if (this.#failures++ === 0) this.#failingSince = Date.now();
        // Says which it is (RBAC, credentials, no answer): each is fixed somewhere else.
        const why = describeApiFailure(err, phase, this.#rbacName);
        this.#log.warn(
          { phase, err: (err as Error).message, code: (err as { code?: string }).code, retryInMs: Math.round(delay), ...why.fields },
          why.kind === 'unreachable' ? `${phase} failed` : `${phase} failed: ${why.headline}`,
        );
        await sleep(delay, signal);
      }
    }
  }

  /** LIST all pages, then make the store's objects of this kind exactly those. */
  async #list(): Promise<void> {
    const kind = this.resource.kind;
    const objects: AnyObject[] = [];
    let invalid = 0;
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.#client.list(
        this.#path,
        { ...selectorQuery(this.resource), limit: this.#pageSize, continue: cont },
        { signal: this.#abort.signal },
      );
      for (const raw of page.items ?? []) {
        try {
          objects.push(this.#converted(raw));
        } catch (err) {
          invalid++;
          this.#rejected(raw, err, invalid <= MAX_INVALID_LOGGED);
          // Keep the last good version of an object that turned invalid.
          const key = rawKey(raw);
          const kept = key === undefined ? undefined : this.#store.get(kind, key);
          if (kept) objects.push(kept);
        }
      }
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont && !this.#abort.signal.aborted);
    if (this.#abort.signal.aborted) return;
    if (invalid > MAX_INVALID_LOGGED) this.#log.warn({ invalid }, `${invalid} invalid objects skipped in this list`);
    this.#store.replaceAll(kind, objects as never[]);
    this.#rv = rv;
    this.#listed = true;
    if (this.#notServed) this.#log.info('resource is served now');
    this.#notServed = false;
    this.#store.markSynced(kind);
    this.#metrics?.lastSync.set({ resource: this.resource.resource }, Date.now() / 1000);
    this.#log.debug({ count: objects.length, rv }, 'listed');
    this.#onListed?.();
  }

  /** One WATCH from the last resourceVersion until the server ends it. */
  async #watch(): Promise<{ events: number; ms: number }> {
    const started = Date.now();
    let events = 0;
    this.#watchEvents = 0;
    const stream = this.#client.watch(
      this.#path,
      {
        ...selectorQuery(this.resource),
        resourceVersion: this.#rv,
        allowWatchBookmarks: true,
        timeoutSeconds: this.#watchTimeout(),
      },
      { signal: this.#abort.signal, idleTimeoutMs: this.#stallMs },
    );
    let stamped = 0;
    for await (const ev of stream) {
      if (!this.#apply(ev?.type, ev?.object)) continue;
      if (events === 0) this.#recovered('watch');
      events++;
      this.#watchEvents = events;
      // Bookmarks count: the store is known current up to now. At most one gauge write a second.
      const now = Date.now();
      if (now - stamped >= 1000) {
        stamped = now;
        this.#metrics?.lastSync.set({ resource: this.resource.resource }, now / 1000);
      }
    }
    return { events, ms: Date.now() - started };
  }

  /** After failures, the first LIST or watch event that works again is worth an info line (a warning said it broke). */
  #recovered(phase: 'list' | 'watch'): void {
    if (this.#failures === 0) return;
    this.#log.info(
      { phase, failures: this.#failures, downForMs: Date.now() - this.#failingSince },
      `${phase} of ${this.#rbacName} works again after ${this.#failures} failed attempt${this.#failures === 1 ? '' : 's'}`,
    );
    this.#failures = 0;
  }

  /** Applies one event; false when it was not a watch event at all (ignored). */
  #apply(type: string, raw: RawJson): boolean {
    const kind = this.resource.kind;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        try {
          this.#store.upsert(this.#converted(raw));
        } catch (err) {
          this.#rejected(raw, err, true);
        }
        break;
      case 'DELETED': {
        // Needs only the name: an object deleted while invalid is gone all the same.
        const key = rawKey(raw);
        if (key !== undefined) this.#store.remove(kind, key);
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const status = (raw ?? {}) as StatusObject;
        if (status.code === 410) throw new GoneError(status.message ?? 'Gone');
        throw apiErrorFromStatus(status);
      }
      default:
        this.#log.warn({ type }, 'unknown watch event type ignored');
        return false;
    }
    const rv = raw?.metadata?.resourceVersion;
    if (typeof rv === 'string' && rv) this.#rv = rv;
    return true;
  }

  /** The slim object of `raw`; for a lean kind, the one the store holds when that is the same. */
  #converted(raw: RawJson): AnyObject {
    const obj = this.#convert(raw);
    if (!this.#lean) return obj;
    const held = this.#store.get(this.resource.kind, objectKey(obj.meta));
    return held && sameLeanObject(held, obj) ? held : obj;
  }

  #rejected(raw: RawJson, err: unknown, log: boolean): void {
    this.#metrics?.invalidObjects.inc({ resource: this.resource.resource });
    if (log) this.#log.warn({ object: rawKey(raw) ?? '<unnamed>', err: (err as Error).message }, 'invalid object skipped; keeping its last good version');
  }
}

/** "ns/name" or "name" from raw metadata, or undefined when it has no name. */
function rawKey(raw: RawJson): string | undefined {
  const meta = raw?.metadata;
  if (!meta || typeof meta.name !== 'string' || !meta.name) return undefined;
  return objectKey({ namespace: typeof meta.namespace === 'string' ? meta.namespace : '', name: meta.name });
}

/** A 429/503 Status may ask for a pause (details.retryAfterSeconds, as kube-apiserver's Retry-After); honour it. */
function retryAfterMs(err: unknown): number {
  if (!(err instanceof ApiError)) return 0;
  const secs = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof secs === 'number' && secs > 0 ? Math.min(secs, 60) * 1000 : 0;
}
