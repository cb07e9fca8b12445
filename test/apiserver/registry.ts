// Write semantics of the API (the apiserver's generic registry): create with
// server-set metadata and 409 AlreadyExists, update with optimistic
// concurrency (409 Conflict on a stale resourceVersion), status kept apart
// from spec for resources with a status subresource, generation bumped on
// spec changes, deletion honouring finalizers, and namespace deletion taking
// its contents with it.

import { randomUUID } from 'node:crypto';
import type { ResourceInfo } from './resources.ts';
import { resourcesFromCRD } from './resources.ts';
import { keyOf, Stored, templateOf } from './storage.ts';
import type { Storage, ResourceTable } from './storage.ts';
import { alreadyExists, ApiError, badRequest, conflict, notFound, STALE_UPDATE, invalid, statusOf } from './status.ts';
import { ServiceAllocator, validateIPAMBlock, validateName } from './defaults.ts';

/** Resources whose main endpoint ignores status (it has a /status subresource). */
const HAS_STATUS = new Set(['services', 'pods', 'nodes', 'namespaces', 'customresourcedefinitions']);

export interface WriteOptions {
  /** Write the object as given, status included (test seeding); the HTTP API never sets it. */
  wholeObject?: boolean;
  /** The /status subresource: only status changes. */
  statusOnly?: boolean;
  /** The caller hands the object over (a freshly parsed body, a bulk seed): no defensive copy. */
  owned?: boolean;
}

/** Deep copy of a JSON object; faster than structuredClone for API objects. */
const cloneJSON = (v: any): any => JSON.parse(JSON.stringify(v));

/**
 * Status a client sends on create is not taken (the strategies' PrepareForCreate):
 * Services start with an empty status, Pods as Pending; Nodes keep theirs
 * (the kubelet registers with one).
 */
function resetStatusOnCreate(r: ResourceInfo, obj: any): void {
  if (r.group !== '') return;
  if (r.plural === 'services') delete obj.status;
  if (r.plural === 'pods') obj.status = { phase: 'Pending' };
}

export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

let lastSecond = 0;
let lastStamp = '';

/** RFC 3339 at second precision, as metav1.Time serializes; cached per second (seeding makes thousands a second). */
function nowRFC3339(): string {
  const now = Date.now();
  const second = now - (now % 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastStamp = new Date(second).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return lastStamp;
}

function specPart(obj: any): string {
  const { metadata: _m, status: _s, kind: _k, apiVersion: _a, ...rest } = obj;
  return JSON.stringify(rest);
}

export class Registry {
  readonly storage: Storage;
  readonly #allocator: ServiceAllocator;
  /** Called when a CRD is stored, so its resource gets served. */
  onCRD: (resources: ResourceInfo[]) => void = () => {};
  /** Resolves a plural+group to a table (used by namespace deletion). */
  tablesOfNamespace: () => ResourceTable[] = () => [];
  /** The namespaces table (to refuse new objects in a terminating namespace). */
  namespaceTable: (() => ResourceTable) | undefined;
  /** How long a deleted namespace stays Terminating before its contents and itself go. */
  namespaceDeletionDelayMs = 100;

  constructor(storage: Storage, serviceCIDR: string) {
    this.storage = storage;
    this.#allocator = new ServiceAllocator(serviceCIDR);
  }

  #commit(table: ResourceTable, type: 'ADDED' | 'MODIFIED' | 'DELETED', key: string, obj: any, prev?: Stored, template?: string): Stored {
    const rv = this.storage.nextRV();
    const cur = new Stored(table.info, key, obj, rv, template);
    table.apply({ type, rv, cur, prev });
    return cur;
  }

  #checkNamespace(r: ResourceInfo, namespace: string, obj: any): void {
    obj.metadata ??= {};
    if (typeof obj.metadata !== 'object') throw badRequest('metadata must be an object');
    if (!r.namespaced) {
      delete obj.metadata.namespace;
      return;
    }
    if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = namespace;
  }

  #validate(r: ResourceInfo, obj: any, old?: any): void {
    if (r.plural === 'ipamblocks' && r.group === 'netlet.io') validateIPAMBlock(r, obj, old);
    if (r.plural === 'customresourcedefinitions' && resourcesFromCRD(obj).length === 0) {
      throw invalid(r, obj.metadata.name, [{ field: 'spec', message: 'Required value: group, names.plural, names.kind and versions' }]);
    }
  }

  create(table: ResourceTable, namespace: string, input: any, opts: WriteOptions = {}): Stored {
    const r = table.info;
    const obj = opts.owned ? input : cloneJSON(input);
    this.#checkNamespace(r, namespace, obj);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomUUID().replace(/-/g, '').slice(0, 5);
    if (!meta.name) throw invalid(r, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    validateName(r, meta.name);
    if (obj.kind && obj.kind !== r.kind) throw badRequest(`the kind of the provided object (${obj.kind}) does not match ${r.kind}`);
    const key = keyOf(namespace, meta.name);
    if (table.objects.has(key)) throw alreadyExists(r, meta.name);
    this.#checkNotTerminating(r, namespace);
    this.#validate(r, obj);
    meta.uid = randomUUID();
    meta.creationTimestamp = nowRFC3339();
    meta.generation = 1;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    if (!opts.wholeObject) resetStatusOnCreate(r, obj);
    this.#defaults(r, obj, undefined);
    const stored = this.#commit(table, 'ADDED', key, obj);
    if (r.plural === 'customresourcedefinitions') this.onCRD(resourcesFromCRD(obj));
    return stored;
  }

  #defaults(r: ResourceInfo, obj: any, old: any | undefined): void {
    if (r.group === '' && r.plural === 'services') this.#allocator.defaultService(r, obj, old);
    if (r.group === '' && r.plural === 'namespaces') obj.status = { phase: old?.status?.phase ?? 'Active', ...obj.status };
    if (r.plural === 'customresourcedefinitions') {
      const names = obj.spec?.names ?? {};
      obj.status = {
        conditions: [
          { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
          { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
        ],
        acceptedNames: { ...names, singular: names.singular ?? String(names.kind ?? '').toLowerCase() },
        storedVersions: (obj.spec?.versions ?? []).filter((v: any) => v.storage).map((v: any) => v.name),
      };
    }
  }

  update(table: ResourceTable, namespace: string, name: string, input: any, opts: WriteOptions = {}): Stored {
    const r = table.info;
    const obj = opts.owned ? input : cloneJSON(input);
    this.#checkNamespace(r, namespace, obj);
    const meta = obj.metadata;
    if (meta.name && meta.name !== name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    meta.name = name;
    const key = keyOf(namespace, name);
    const old = table.objects.get(key);
    if (!old) throw notFound(r, name);
    if (meta.resourceVersion && meta.resourceVersion !== String(old.rv)) throw conflict(r, name, STALE_UPDATE);
    if (meta.uid && meta.uid !== old.obj.metadata.uid) {
      throw conflict(r, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${old.obj.metadata.uid}`);
    }
    const oldMeta = old.obj.metadata;
    meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    // Only the server sets deletionTimestamp (a client's value is ignored).
    if (oldMeta.deletionTimestamp) meta.deletionTimestamp = oldMeta.deletionTimestamp;
    else delete meta.deletionTimestamp;
    let next = obj;
    if (opts.statusOnly) next = { ...old.copy(), status: obj.status };
    else if (!opts.wholeObject && HAS_STATUS.has(r.plural)) {
      if (old.obj.status === undefined) delete obj.status;
      else obj.status = cloneJSON(old.obj.status);
    }
    next.metadata = opts.statusOnly ? { ...next.metadata, resourceVersion: undefined } : meta;
    this.#validate(r, next, old.obj);
    this.#defaults(r, next, old.obj);
    const nextSpec = specPart(next);
    old.specJSON ??= specPart(old.obj);
    next.metadata.generation = (oldMeta.generation ?? 1) + (nextSpec !== old.specJSON ? 1 : 0);
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length > 0)) {
      return this.#remove(table, key, old, next);
    }
    // An update that changes nothing writes nothing: same resourceVersion, no watch event (as etcd's GuaranteedUpdate).
    const template = templateOf(next);
    if (template === old.template) return old;
    const stored = this.#commit(table, 'MODIFIED', key, next, old, template);
    stored.specJSON = nextSpec;
    if (r.plural === 'customresourcedefinitions') this.onCRD(resourcesFromCRD(next));
    return stored;
  }

  /** Deletes now, or marks for deletion while finalizers remain; returns the last version. */
  delete(table: ResourceTable, namespace: string, name: string, pre: DeletePreconditions = {}): Stored {
    const r = table.info;
    const key = keyOf(namespace, name);
    const old = table.objects.get(key);
    if (!old) throw notFound(r, name);
    if (pre.uid && pre.uid !== old.obj.metadata.uid) {
      throw conflict(r, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.obj.metadata.uid}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== String(old.rv)) {
      throw conflict(
        r,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.rv}`,
      );
    }
    if (old.obj.metadata.finalizers?.length > 0) {
      if (old.obj.metadata.deletionTimestamp) return old;
      const marked = old.copy();
      marked.metadata.deletionTimestamp = nowRFC3339();
      marked.metadata.deletionGracePeriodSeconds = 0;
      return this.#commit(table, 'MODIFIED', key, marked, old);
    }
    if (r.group === '' && r.plural === 'namespaces') return this.#terminateNamespace(table, key, old);
    return this.#remove(table, key, old, old.copy());
  }

  /**
   * A namespace is not deleted at once: it turns Terminating, and the namespace
   * controller deletes its contents and then the namespace a moment later (so
   * `kubectl delete -f` can still delete the objects listed after it).
   */
  #terminateNamespace(table: ResourceTable, key: string, old: Stored): Stored {
    if (old.obj.metadata.deletionTimestamp) return old;
    const marked = old.copy();
    marked.metadata.deletionTimestamp = nowRFC3339();
    marked.status = { ...marked.status, phase: 'Terminating' };
    const stored = this.#commit(table, 'MODIFIED', key, marked, old);
    const finish = (): void => {
      const cur = table.objects.get(key);
      if (!cur?.obj.metadata.deletionTimestamp) return;
      this.#emptyNamespace(key);
      this.#remove(table, key, cur, cur.copy());
    };
    if (this.namespaceDeletionDelayMs <= 0) finish();
    else setTimeout(finish, this.namespaceDeletionDelayMs).unref();
    return stored;
  }

  /** 403, as the NamespaceLifecycle admission plugin answers, for new objects in a terminating namespace. */
  #checkNotTerminating(r: ResourceInfo, namespace: string): void {
    if (!r.namespaced) return;
    const ns = this.namespaceTable?.().objects.get(namespace);
    if (ns?.obj.metadata.deletionTimestamp) {
      throw new ApiError(
        statusOf(403, `${r.plural} "" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, 'Forbidden', {
          kind: r.plural,
        }),
      );
    }
  }

  #remove(table: ResourceTable, key: string, old: Stored, last: any): Stored {
    if (table.info.group === '' && table.info.plural === 'services') this.#allocator.release(old.obj);
    return this.#commit(table, 'DELETED', key, last, old);
  }

  #emptyNamespace(ns: string): void {
    for (const t of this.tablesOfNamespace()) {
      for (const s of [...t.objects.values()]) {
        if (s.obj.metadata.namespace === ns) this.#remove(t, s.key, s, s.copy());
      }
    }
  }
}
