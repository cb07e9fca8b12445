// LIST: a consistent page of a table at one resourceVersion. The continue
// token (base64 JSON, like the apiserver's {"v","rv","start"}) pins the
// snapshot; pages walk keys in etcd order; a token older than the retained
// history is 410 Expired. Items are the cached JSON strings, joined.

import type { ResourceTable, Snapshot, Stored } from './storage.ts';
import { expiredContinue, badRequest, ApiError, tooOldResourceVersion } from './status.ts';
import { apiVersionOf } from './resources.ts';
import type { IncludeObject } from './table.ts';
import { tableJSON } from './table.ts';

export interface ListQuery {
  namespace: string;
  filter: ((s: Stored) => boolean) | undefined;
  /** True when label/field selectors filter (remainingItemCount is then unknown, as in the API). */
  selective: boolean;
  limit: number;
  continueToken: string | null;
  resourceVersion: string | null;
  resourceVersionMatch: string | null;
  table?: { include: IncludeObject };
}

interface Token {
  v: string;
  rv: number;
  start: string;
}

function encodeToken(rv: number, lastKey: string): string {
  const t: Token = { v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` };
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeToken(s: string): Token {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Token;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad');
    return t;
  } catch {
    throw badRequest('continue key is not valid: invalid continue token');
  }
}

function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function pickSnapshot(table: ResourceTable, q: ListQuery, currentRV: number): Snapshot {
  if (q.continueToken) {
    const t = decodeToken(q.continueToken);
    const snap = table.snapshotAt(t.rv);
    if (!snap) throw expiredContinue();
    return snap;
  }
  if (q.resourceVersion && q.resourceVersionMatch === 'Exact') {
    const rv = Number(q.resourceVersion);
    if (!Number.isInteger(rv)) throw badRequest(`invalid resource version: ${q.resourceVersion}`);
    const snap = table.snapshotAt(rv);
    if (!snap) throw new ApiError(tooOldResourceVersion(rv, table.floorRV));
    return snap;
  }
  return table.snapshotAt(currentRV) as Snapshot;
}

/** The response body of a LIST (a <Kind>List, or a Table). */
export function listJSON(table: ResourceTable, q: ListQuery, currentRV: number): string {
  const info = table.info;
  const snap = pickSnapshot(table, q, currentRV);
  const keys = snap.keys;
  const prefix = q.namespace ? `${q.namespace}/` : '';
  let i = 0;
  if (q.continueToken) i = lowerBound(keys, decodeToken(q.continueToken).start);
  if (prefix && i < keys.length && keys[i] < prefix) i = lowerBound(keys, prefix);
  const items: Stored[] = [];
  const limit = q.limit > 0 ? q.limit : Infinity;
  let lastKey = '';
  for (; i < keys.length && items.length < limit; i++) {
    const key = keys[i];
    if (prefix && !key.startsWith(prefix)) {
      i = keys.length;
      break;
    }
    const s = snap.objects.get(key) as Stored;
    lastKey = key;
    if (!q.filter || q.filter(s)) items.push(s);
  }
  // More keys may follow within the namespace: hand out a token (the API may do so even if none match).
  const more = i < keys.length && (!prefix || keys[i].startsWith(prefix));
  const meta: Record<string, unknown> = { resourceVersion: String(snap.rv) };
  if (more) {
    meta.continue = encodeToken(snap.rv, lastKey);
    if (!q.selective) {
      let end = keys.length;
      if (prefix) end = lowerBound(keys, prefix.slice(0, -1) + '0'); // '0' is the byte after '/'
      meta.remainingItemCount = end - i;
    }
  }
  if (q.table) return tableJSON(info, items, meta, q.table.include);
  const listKind = `${info.kind}List`;
  const body = info.custom ? items.map((s) => s.json).join(',') : items.map((s) => s.body).join(',');
  return `{"kind":"${listKind}","apiVersion":"${apiVersionOf(info)}","metadata":${JSON.stringify(meta)},"items":[${body}]}`;
}
