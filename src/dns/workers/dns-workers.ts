import { Worker } from 'node:worker_threads';
import type { AnyObject, Kind } from '../../k8s/objects.ts';
import type { ObjectStore } from '../../k8s/store.ts';
import { allBlocks } from '../corefile/config.ts';
import type { DnsConfig } from '../corefile/config.ts';
import type { Observation } from '../answer/handler.ts';
import type { Registry } from 'prom-client';
import { cacheMetricLabels } from '../forward-chain.ts';
import { setWorkerCacheSizes } from '../metrics/coredns-metrics.ts';
import { applyWorkerMetrics } from '../metrics/worker-metrics.ts';
import type { WorkerMetricsBatch } from '../metrics/worker-metrics.ts';

/** Messages from the main thread to a DNS worker. */
export type ToWorker =
  | { t: 'objects'; upserts: AnyObject[]; removals: Array<{ kind: Kind; key: string }> }
  | { t: 'synced'; kind: Kind }
  | { t: 'stop' };

/** Messages from a DNS worker to the main thread. */
export type FromWorker =
  | { t: 'listening' }
  | { t: 'observations'; block: number; list: Observation[] }
  | { t: 'metrics'; block: number; batch: WorkerMetricsBatch }
  | { t: 'error'; message: string; where: string };

export interface WorkerData {
  /** The whole config, every block's listen addresses resolved to the main thread's bound ports. */
  config: DnsConfig;
  kinds: Kind[];
  observe: boolean;
  /** The main thread exports metrics: the worker reports its forward/cache counts. */
  metrics: boolean;
}

/**
 * The worker's module beside this one: dns-worker.ts when the sources run,
 * dist/dns-worker.mjs (its own entry point, scripts/build.ts) when this code
 * is part of the bundle dist/netlet.mjs.
 */
const workerModule = (): URL =>
  new URL(import.meta.url.endsWith('.ts') ? './dns-worker.ts' : './dns-worker.mjs', import.meta.url);

/**
 * Extra threads answering DNS on the same addresses as the main thread
 * (SO_REUSEPORT: the kernel spreads datagrams and connections over the
 * sockets). Each has its own store mirror and zone index, fed the main
 * store's changes in batches: answering stays lock-free and the main
 * thread keeps the only connection to the sources.
 */
export class DnsWorkers {
  readonly #store: ObjectStore;
  readonly #kinds: Kind[];
  readonly #workers: Worker[] = [];
  /** The main thread's observe hook of each server block, in allBlocks order: a worker's observations go to their block's. */
  readonly #observers: ReadonlyArray<((o: Observation) => void) | undefined>;
  readonly #onError: ((err: Error, where: string) => void) | undefined;
  readonly #registry: Registry | undefined;
  #pending: ToWorker & { t: 'objects' } = { t: 'objects', upserts: [], removals: [] };
  #flushQueued = false;
  #unsubscribe: Array<() => void> = [];

  constructor(opts: {
    store: ObjectStore;
    kinds: Kind[];
    observers: ReadonlyArray<((o: Observation) => void) | undefined>;
    onError?: (err: Error, where: string) => void;
    /** Where the workers' forward/cache metrics are summed (metrics/worker-metrics.ts). */
    registry?: Registry;
  }) {
    this.#store = opts.store;
    this.#kinds = opts.kinds;
    this.#observers = opts.observers;
    this.#onError = opts.onError;
    this.#registry = opts.registry;
  }

  /**
   * Starts `count` workers serving every block of `config`; `bound` is the
   * same with the ports the main thread's sockets got (port 0 resolved).
   * Metrics keep `config`'s labels, as the main thread's own do.
   */
  async start(count: number, config: DnsConfig, bound: DnsConfig): Promise<void> {
    const kinds = new Set(this.#kinds);
    this.#unsubscribe.push(
      this.#store.subscribe((c) => {
        if (!kinds.has(c.kind)) return;
        if (c.current) this.#pending.upserts.push(c.current);
        else this.#pending.removals.push({ kind: c.kind, key: c.key });
        this.#queueFlush();
      }),
      this.#store.onSynced((kind) => {
        if (!kinds.has(kind)) return;
        this.#flush();
        this.#broadcast({ t: 'synced', kind });
      }),
    );
    const data: WorkerData = { config: { ...bound, workers: 1 }, kinds: this.#kinds, observe: this.#observers.some(Boolean), metrics: !!this.#registry };
    const labels = allBlocks(config).map(cacheMetricLabels);
    const started: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const w = new Worker(workerModule(), { workerData: data });
      this.#workers.push(w);
      started.push(
        new Promise((resolve, reject) => {
          w.once('error', reject);
          w.on('message', (m: FromWorker) => {
            if (m.t === 'listening') resolve();
            else if (m.t === 'observations') {
              const observe = this.#observers[m.block];
              if (observe) for (const o of m.list) observe(o);
            } else if (m.t === 'metrics' && this.#registry && labels[m.block]) applyWorkerMetrics(this.#registry, i, labels[m.block], m.batch);
            else if (m.t === 'error') this.#onError?.(new Error(m.message), m.where);
          });
        }),
      );
      // The worker's first view: everything the store holds now, then what is synced.
      const upserts: AnyObject[] = [];
      for (const k of this.#kinds) for (const o of this.#store.list(k)) upserts.push(o);
      w.postMessage({ t: 'objects', upserts, removals: [] } satisfies ToWorker);
      for (const k of this.#kinds) if (this.#store.isSynced(k)) w.postMessage({ t: 'synced', kind: k } satisfies ToWorker);
    }
    await Promise.all(started);
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    await Promise.all(this.#workers.map((w) => w.terminate()));
    if (this.#registry) for (let i = 0; i < this.#workers.length; i++) setWorkerCacheSizes(this.#registry, i, { server: '', zones: '' }, null);
    this.#workers.length = 0;
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#pending.upserts.length === 0 && this.#pending.removals.length === 0) return;
    const batch = this.#pending;
    this.#pending = { t: 'objects', upserts: [], removals: [] };
    this.#broadcast(batch);
  }

  #broadcast(msg: ToWorker): void {
    for (const w of this.#workers) w.postMessage(msg);
  }
}
