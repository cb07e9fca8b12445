// A backend that records every SyncRequest (copied, since the proxier keeps
// mutating its PlanSet) and can be told to fail.
import { BackendSyncError } from '../../../src/proxier/backend.ts';
import type { ProxyBackend, SyncRequest, SyncResult } from '../../../src/proxier/backend.ts';

export interface RecordedSync {
  family: SyncRequest['family'];
  full: boolean;
  keys: string[];
  changed: string[];
  plans: SyncRequest['plans'];
  nodePortAddresses: string[];
}

export class FakeBackend implements ProxyBackend {
  readonly name: string;
  readonly syncs: RecordedSync[] = [];
  fail = 0;
  /** What a failing sync throws: by default a restore failure, as the iptables backend reports one. */
  failure = (): Error => new BackendSyncError('restore', 'iptables-restore: line 7 failed');
  cleaned = false;
  /** What intact() answers (a thrown error when 'error'); how often it was asked. */
  intactAnswer: boolean | 'error' = true;
  intactChecks = 0;
  /** Plan keys whose rules this backend cannot load: a sync holding one fails and names it, as the iptables backend does. */
  readonly refuses = new Set<string>();

  constructor(name = 'iptables') {
    this.name = name;
  }

  async sync(req: SyncRequest): Promise<SyncResult> {
    if (this.fail > 0) {
      this.fail--;
      throw this.failure();
    }
    for (const key of this.refuses) {
      if (req.plans.has(key)) throw new BackendSyncError('restore', `iptables-restore: a rule of ${key} failed`, { planKey: key });
    }
    this.syncs.push({
      family: req.family,
      full: req.full,
      keys: [...req.plans.keys()].sort(),
      changed: [...req.changed].sort(),
      plans: new Map(req.plans),
      nodePortAddresses: req.nodePortAddresses,
    });
    return { ruleCount: req.plans.size * 3, applyMs: 1, rulesByTable: { nat: req.plans.size * 2, filter: req.plans.size } };
  }

  async intact(): Promise<boolean> {
    this.intactChecks++;
    if (this.intactAnswer === 'error') throw new Error('iptables: Another app is currently holding the xtables lock');
    return this.intactAnswer;
  }

  async cleanup(): Promise<void> {
    this.cleaned = true;
  }

  get last(): RecordedSync | undefined {
    return this.syncs.at(-1);
  }
}
