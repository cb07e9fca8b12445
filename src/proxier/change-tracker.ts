// Collects Service and EndpointSlice changes between syncs, the way
// kube-proxy's servicechangetracker.go / endpointschangetracker.go do: per
// service, the first `previous` seen since the last sync is kept and the
// latest `current` wins; when they end up equal the entry is dropped (an
// update that was undone costs no sync). At sync time the tracker hands over
// the set of changed services and starts collecting afresh.

import type { EndpointSlice, Service } from '../k8s/objects.ts';
import type { ObjectStore, StoreChange } from '../k8s/store.ts';
import { deepEqual } from './deep-equal.ts';

/** kube-proxy ignores services carrying service.kubernetes.io/service-proxy-name (another proxy owns them). */
export function isProxied(svc: Service | undefined): svc is Service {
  return svc !== undefined && svc.serviceProxyName === '';
}

interface ServiceEntry {
  previous: Service | undefined;
  current: Service | undefined;
}

/** The slices of one service, by slice key, as seen before and after the pending changes. */
interface SliceEntry {
  previous: Map<string, EndpointSlice | undefined>;
  current: Map<string, EndpointSlice | undefined>;
}

export interface PendingChanges {
  /** "namespace/name" of every service whose Service or EndpointSlices changed. */
  services: Set<string>;
  /** EndpointSlice trigger times (ms) per service, for network programming latency. */
  triggerTimes: Map<string, number[]>;
}

export interface ChangeTrackerHooks {
  /** Called on every Service or EndpointSlice change, so the owner can request a sync and count it. */
  onChange?: (kind: 'Service' | 'EndpointSlice') => void;
}

export class ChangeTracker {
  readonly #services = new Map<string, ServiceEntry>();
  readonly #slices = new Map<string, SliceEntry>();
  readonly #triggerTimes = new Map<string, number[]>();
  readonly #hooks: ChangeTrackerHooks;
  #unsubscribe: (() => void) | undefined;

  constructor(hooks: ChangeTrackerHooks = {}) {
    this.#hooks = hooks;
  }

  /** Follows the store until `close()`. */
  attach(store: ObjectStore): void {
    this.#unsubscribe?.();
    this.#unsubscribe = store.subscribe((change) => this.record(change));
  }

  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** One store change; other kinds are ignored (Nodes are the proxier's business). */
  record(change: StoreChange): void {
    if (change.kind === 'Service') {
      this.#recordService(change.key, change.previous as Service | undefined, change.current as Service | undefined);
    } else if (change.kind === 'EndpointSlice') {
      this.#recordSlice(change.key, change.previous as EndpointSlice | undefined, change.current as EndpointSlice | undefined);
    } else {
      return;
    }
    this.#hooks.onChange?.(change.kind);
  }

  /** Pending service changes (kubeproxy_sync_proxy_rules_service_changes_pending). */
  get pendingServiceChanges(): number {
    return this.#services.size;
  }

  /** Pending endpoint changes, counted per service (kubeproxy_sync_proxy_rules_endpoint_changes_pending). */
  get pendingEndpointChanges(): number {
    return this.#slices.size;
  }

  hasPending(): boolean {
    return this.#services.size > 0 || this.#slices.size > 0;
  }

  /** Hands over what changed since the last call and starts collecting afresh. */
  take(): PendingChanges {
    const services = new Set<string>([...this.#services.keys(), ...this.#slices.keys()]);
    const triggerTimes = new Map(this.#triggerTimes);
    this.#services.clear();
    this.#slices.clear();
    this.#triggerTimes.clear();
    return { services, triggerTimes };
  }

  #recordService(key: string, previous: Service | undefined, current: Service | undefined): void {
    // A service another proxy owns is, for us, absent.
    const prev = isProxied(previous) ? previous : undefined;
    const cur = isProxied(current) ? current : undefined;
    const entry = this.#services.get(key);
    if (entry) {
      entry.current = cur;
      if (servicesEqual(entry.previous, entry.current)) this.#services.delete(key);
      return;
    }
    if (servicesEqual(prev, cur)) return;
    this.#services.set(key, { previous: prev, current: cur });
  }

  #recordSlice(sliceKey: string, previous: EndpointSlice | undefined, current: EndpointSlice | undefined): void {
    // A slice can move between services only by relabelling; record it on both.
    const serviceKeys = new Set<string>();
    if (previous?.serviceName) serviceKeys.add(`${previous.meta.namespace}/${previous.serviceName}`);
    if (current?.serviceName) serviceKeys.add(`${current.meta.namespace}/${current.serviceName}`);
    for (const svcKey of serviceKeys) {
      const prevForSvc = previous && `${previous.meta.namespace}/${previous.serviceName}` === svcKey ? previous : undefined;
      const curForSvc = current && `${current.meta.namespace}/${current.serviceName}` === svcKey ? current : undefined;
      let entry = this.#slices.get(svcKey);
      if (!entry) {
        if (slicesEqual(prevForSvc, curForSvc)) continue;
        entry = { previous: new Map(), current: new Map() };
        this.#slices.set(svcKey, entry);
      }
      if (!entry.previous.has(sliceKey)) entry.previous.set(sliceKey, prevForSvc);
      entry.current.set(sliceKey, curForSvc);
      if (curForSvc?.triggerTimeMs) {
        const times = this.#triggerTimes.get(svcKey) ?? [];
        times.push(curForSvc.triggerTimeMs);
        this.#triggerTimes.set(svcKey, times);
      }
      if (sliceEntryUnchanged(entry)) {
        this.#slices.delete(svcKey);
        this.#triggerTimes.delete(svcKey);
      }
    }
  }
}

function sliceEntryUnchanged(entry: SliceEntry): boolean {
  for (const [k, prev] of entry.previous) {
    if (!slicesEqual(prev, entry.current.get(k))) return false;
  }
  return true;
}

/** Top-level fields that describe the object's identity or its change, not what the proxier reads. */
const IGNORED = new Set(['meta', 'triggerTimeMs']);

function sameContent(a: object, b: object): boolean {
  const ka = Object.keys(a).filter((k) => !IGNORED.has(k));
  const kb = Object.keys(b).filter((k) => !IGNORED.has(k));
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** Equality of what the proxier reads; resourceVersion and uid are ignored on purpose. */
function servicesEqual(a: Service | undefined, b: Service | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return sameContent(a, b);
}

function slicesEqual(a: EndpointSlice | undefined, b: EndpointSlice | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  // triggerTimeMs is metadata about the change, not the endpoints themselves.
  return sameContent(a, b);
}
