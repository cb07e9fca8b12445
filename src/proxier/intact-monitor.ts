// Polls the backends every syncPeriod for whether the kernel still holds
// what the last sync wrote (iptables: the KUBE-PROXY-CANARY chain), apart from
// the syncs themselves. This is kube-proxy's iptables Monitor
// (pkg/util/iptables): the check costs one `iptables -S` and would otherwise
// sit beside every restore an endpoint change waits for. A flushed table is
// then rewritten within about one syncPeriod by a full sync.

import type { Logger } from '../base/log.ts';
import type { ProxyBackend } from './backend.ts';
import type { Clock } from '../base/bounded-frequency-runner.ts';
import { familyLabel } from './metrics.ts';
import type { Family } from './plan.ts';

/** What the monitor reads of one family's sync state (the proxier's FamilyState). */
export interface MonitoredFamily {
  readonly family: Family;
  readonly backend: ProxyBackend;
  /** Nothing to check before the first successful sync. */
  readonly applied: unknown;
  /** A full sync is already queued. */
  readonly needFull: boolean;
  readonly fullSyncRunning: boolean;
  /** Counts full syncs started and ended, so a check can tell one overlapped it. */
  readonly fullSyncEvents: number;
}

export interface IntactMonitorOptions {
  clock: Clock;
  periodMs: number;
  log: Logger;
  families: readonly MonitoredFamily[];
  /** Called for each family found damaged; the proxier queues a full sync. */
  onDamaged: (family: MonitoredFamily) => void;
}

export class IntactMonitor {
  readonly #opts: IntactMonitorOptions;
  #timer: unknown;
  #running = false;

  constructor(opts: IntactMonitorOptions) {
    this.#opts = opts;
  }

  start(): void {
    if (this.#running || !this.#opts.families.some((f) => f.backend.intact)) return;
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = this.#opts.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.check().finally(() => this.#schedule());
    }, this.#opts.periodMs);
  }

  /**
   * One round. A check that overlapped a full sync of its family is ignored
   * (that sync may be rewriting the very chain looked at) and the next round
   * decides; partial syncs never remove the canary, so they void nothing.
   */
  async check(): Promise<void> {
    for (const f of this.#opts.families) {
      if (!f.backend.intact || f.applied === undefined || f.needFull || f.fullSyncRunning) continue;
      const events = f.fullSyncEvents;
      let intact: boolean;
      try {
        intact = await f.backend.intact();
      } catch (err) {
        // A busy xtables lock says nothing about our chains: look again next round.
        this.#opts.log.warn({ err, family: familyLabel(f.family) }, 'cannot check whether the proxy rules are intact');
        continue;
      }
      if (intact || f.fullSyncEvents !== events || !this.#running) continue;
      this.#opts.log.warn({ family: familyLabel(f.family), backend: f.backend.name }, 'proxy rules were removed by someone else (canary gone): full sync');
      this.#opts.onDamaged(f);
    }
  }
}
