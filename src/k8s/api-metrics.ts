import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { ALL_KINDS } from './objects.ts';
import type { ObjectStore } from './store.ts';

/**
 * The API side's metrics, registered on the agent's registry:
 * watch restarts, relists (after 410 Gone), objects held per kind, the time
 * of the last successful sync, objects rejected as invalid, and whether the
 * agent serves from a snapshot.
 */
export class ApiMetrics {
  readonly watchRestarts: Counter<'resource'>;
  readonly relists: Counter<'resource'>;
  readonly lastSync: Gauge<'resource'>;
  readonly invalidObjects: Counter<'resource'>;
  readonly offline: Gauge;

  constructor(registry: Registry, store: ObjectStore) {
    const registers = [registry];
    this.watchRestarts = new Counter({
      name: 'netlet_api_watch_restarts_total',
      help: 'Watches re-established after they ended, failed or stalled (resumed from the last resourceVersion).',
      labelNames: ['resource'],
      registers,
    });
    this.relists = new Counter({
      name: 'netlet_api_relists_total',
      help: 'Full relists after the watch resourceVersion expired (410 Gone).',
      labelNames: ['resource'],
      registers,
    });
    new Gauge({
      name: 'netlet_api_objects',
      help: 'Objects held in the local store, by kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        for (const kind of ALL_KINDS) this.set({ kind }, store.count(kind));
      },
    });
    this.lastSync = new Gauge({
      name: 'netlet_api_last_sync_timestamp_seconds',
      help: 'When the store last heard from the API server for this resource (list or watch event), seconds since epoch.',
      labelNames: ['resource'],
      registers,
    });
    this.invalidObjects = new Counter({
      name: 'netlet_api_invalid_objects_total',
      help: 'API objects rejected by conversion (the last good version is kept).',
      labelNames: ['resource'],
      registers,
    });
    this.offline = new Gauge({
      name: 'netlet_offline',
      help: '1 while the agent serves from its snapshot because the API server is unreachable.',
      registers,
    });
    this.offline.set(0);
  }
}
