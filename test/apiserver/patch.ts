// PATCH bodies: JSON merge patch (RFC 7386), a strategic merge patch reduced
// to what kubectl's client-side apply sends (merge by key for the lists the
// API merges by key, `$patch` and `$setElementOrder`/`$retainKeys`/
// `$deleteFromPrimitiveList` directives), and JSON patch (RFC 6902).

import { badRequest, ApiError, statusOf } from './status.ts';

export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_PATCH = 'application/strategic-merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

const isObject = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function mergePatch(target: any, patch: any): any {
  if (!isObject(patch)) return patch;
  const out: Record<string, any> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * Merge keys of the list fields kubectl apply patches by key (from the
 * `patchMergeKey` tags of the core types). Lists not named here are replaced.
 */
const MERGE_KEYS: Record<string, string> = {
  ports: 'port',
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  conditions: 'type',
  addresses: 'type',
  taints: 'key',
  ownerReferences: 'uid',
  finalizers: '',
};

export function strategicMergePatch(target: any, patch: any): any {
  if (!isObject(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, any> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/') || k === '$retainKeys' || k === '$patch') continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field])) out[field] = out[field].filter((x: unknown) => !(v as unknown[]).includes(x));
      continue;
    }
    if (v === null) delete out[k];
    else if (Array.isArray(v) && k in MERGE_KEYS) out[k] = mergeList(out[k], v, MERGE_KEYS[k], patch[`$setElementOrder/${k}`]);
    else if (Array.isArray(v)) out[k] = v.map(stripDirectives);
    else {
      const merged = strategicMergePatch(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
  }
  return out;
}

function mergeList(current: unknown, patch: any[], key: string, order: any[] | undefined): any[] {
  const base = Array.isArray(current) ? [...current] : [];
  if (!key) {
    // A list of scalars merged as a set (finalizers).
    for (const v of patch) if (!base.includes(v)) base.push(v);
    return base;
  }
  for (const item of patch) {
    if (!isObject(item)) return patch.map(stripDirectives);
    const i = base.findIndex((b) => isObject(b) && b[key] === item[key]);
    if (item.$patch === 'delete') {
      if (i >= 0) base.splice(i, 1);
    } else if (i >= 0) base[i] = strategicMergePatch(base[i], item);
    else base.push(stripDirectives(item));
  }
  if (Array.isArray(order)) {
    const rank = (x: any): number => {
      const r = order.findIndex((o) => isObject(o) && o[key] === x?.[key]);
      return r < 0 ? order.length : r;
    };
    base.sort((a, b) => rank(a) - rank(b));
  }
  return base;
}

function stripDirectives(v: any): any {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, any> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`json patch: invalid path "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: any, parts: string[], path: string): { parent: any; last: string } {
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(p)] : cur?.[p];
    if (cur === undefined || cur === null || typeof cur !== 'object') {
      throw new ApiError(statusOf(422, `json patch: path "${path}" does not exist`, 'Invalid'));
    }
  }
  return { parent: cur, last: parts[parts.length - 1] };
}

function getAt(doc: any, path: string): unknown {
  const parts = pointer(path);
  if (parts.length === 0) return doc;
  const { parent, last } = parentOf(doc, parts, path);
  const v = Array.isArray(parent) ? parent[Number(last)] : parent[last];
  if (v === undefined) throw new ApiError(statusOf(422, `json patch: path "${path}" does not exist`, 'Invalid'));
  return v;
}

function removeAt(doc: any, path: string): unknown {
  const v = getAt(doc, path);
  const parts = pointer(path);
  const { parent, last } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
  return v;
}

function addAt(doc: any, path: string, value: unknown): any {
  const parts = pointer(path);
  if (parts.length === 0) return value;
  const { parent, last } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!(i >= 0 && i <= parent.length)) throw new ApiError(statusOf(422, `json patch: index out of range "${path}"`, 'Invalid'));
    parent.splice(i, 0, value);
  } else parent[last] = value;
  return doc;
}

/** RFC 6902 on a deep copy; a failed `test` is a 422, as in the API. */
export function jsonPatch(target: any, ops: unknown): any {
  if (!Array.isArray(ops)) throw badRequest('json patch: body must be an array of operations');
  let doc = structuredClone(target);
  for (const o of ops as JsonPatchOp[]) {
    switch (o.op) {
      case 'add':
        doc = addAt(doc, o.path, structuredClone(o.value));
        break;
      case 'remove':
        removeAt(doc, o.path);
        break;
      case 'replace':
        getAt(doc, o.path);
        if (pointer(o.path).length === 0) doc = structuredClone(o.value);
        else {
          removeAt(doc, o.path);
          doc = addAt(doc, o.path, structuredClone(o.value));
        }
        break;
      case 'move':
        doc = addAt(doc, o.path, removeAt(doc, o.from ?? ''));
        break;
      case 'copy':
        doc = addAt(doc, o.path, structuredClone(getAt(doc, o.from ?? '')));
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, o.path)) !== JSON.stringify(o.value)) {
          throw new ApiError(statusOf(422, `json patch: test operation failed at "${o.path}"`, 'Invalid'));
        }
        break;
      default:
        throw badRequest(`json patch: unknown operation "${o.op}"`);
    }
  }
  return doc;
}

export function applyPatch(contentType: string, current: any, body: any): any {
  switch (contentType) {
    case MERGE_PATCH:
      return mergePatch(current, body);
    case STRATEGIC_PATCH:
      return strategicMergePatch(current, body);
    case JSON_PATCH:
      return jsonPatch(current, body);
    default:
      throw new ApiError(
        statusOf(415, `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, ${MERGE_PATCH}, ${STRATEGIC_PATCH}`, 'UnsupportedMediaType'),
      );
  }
}
