// Serves one request on a resource path: LIST/WATCH/GET on GET, create on
// POST, update on PUT, PATCH, DELETE on an object or a collection.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiCore } from './core.ts';
import type { ResourcePath } from './routes.ts';
import type { Stored } from './storage.ts';
import { keyOf } from './storage.ts';
import { parseFieldSelector, parseLabelSelector, fieldValue } from './selectors.ts';
import { ApiError, badRequest, internalError, methodNotAllowed, notFound, tooLargeResourceVersion, tooOldResourceVersion, unknownPath } from './status.ts';
import { gzip } from 'node:zlib';
import { listJSON } from './list.ts';
import { WatchStream } from './watch.ts';
import { wantsTable } from './table.ts';
import type { IncludeObject } from './table.ts';
import { applyPatch } from './patch.ts';
import { apiVersionOf } from './resources.ts';
import type { Verb } from './faults.ts';

export function verbOf(method: string, rp: ResourcePath, q: URLSearchParams): Verb {
  const isWatch = rp.watchPrefix || q.get('watch') === '1' || q.get('watch') === 'true';
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (isWatch) return 'watch';
      return rp.name ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return rp.name ? 'delete' : 'deletecollection';
    default:
      throw methodNotAllowed(method);
  }
}

export function sendJSON(res: ServerResponse, code: number, body: string): void {
  // Encode once: Buffer.byteLength plus end(string) would walk a 10 MB list twice.
  const buf = Buffer.from(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Content-Length': buf.length });
  res.end(buf);
}

function filterOf(core: ApiCore, rp: ResourcePath, q: URLSearchParams): { filter?: (s: Stored) => boolean; selective: boolean } {
  const labels = parseLabelSelector(q.get('labelSelector'));
  const fields = parseFieldSelector(q.get('fieldSelector'), rp.info.fieldLabels);
  const ns = rp.namespace;
  // A watch on an object's own path (/…/services/web?watch=1) sees only that object.
  const name = rp.name;
  if (!labels && !fields && !ns && !name) return { selective: false };
  const filter = (s: Stored): boolean => {
    const m = s.obj.metadata;
    if (ns && m.namespace !== ns) return false;
    if (name && m.name !== name) return false;
    if (labels && !labels((k) => m.labels?.[k])) return false;
    if (fields && !fields.matcher((k) => fieldValue(s.obj, k))) return false;
    return true;
  };
  return { filter, selective: !!(labels || fields || name) };
}

function includeOf(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

/**
 * A LIST at a resourceVersion newer than the server's waits for it (the watch
 * cache waits up to 3 s), then fails with 504 Too large resource version — what
 * a client sees after the API server's storage was restored to an older state.
 */
async function waitForResourceVersion(core: ApiCore, q: URLSearchParams): Promise<void> {
  const rv = Number(q.get('resourceVersion') ?? '');
  if (!q.get('resourceVersion') || !Number.isInteger(rv) || rv <= core.resourceVersion || q.get('continue')) return;
  if (q.get('resourceVersionMatch') === 'Exact') throw tooLargeResourceVersion(rv, core.resourceVersion);
  const deadline = Date.now() + core.options.tooLargeResourceVersionWaitMs;
  while (rv > core.resourceVersion && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (rv > core.resourceVersion) throw tooLargeResourceVersion(rv, core.resourceVersion);
}

async function list(core: ApiCore, rp: ResourcePath, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { filter, selective } = filterOf(core, rp, q);
  const limit = Number(q.get('limit') ?? 0);
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`invalid limit: ${q.get('limit')}`);
  await waitForResourceVersion(core, q);
  const body = listJSON(
    core.catalog.table(rp.info),
    {
      namespace: rp.namespace,
      filter,
      selective,
      limit,
      continueToken: q.get('continue') || null,
      resourceVersion: q.get('resourceVersion'),
      resourceVersionMatch: q.get('resourceVersionMatch'),
      table: wantsTable(req.headers.accept) ? { include: includeOf(q) } : undefined,
    },
    core.resourceVersion,
  );
  if (core.options.compression && body.length > GZIP_THRESHOLD && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    gzip(body, (err, zipped) => {
      if (err) return sendJSON(res, 500, JSON.stringify(internalError(err.message)));
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Encoding': 'gzip',
        Vary: 'Accept-Encoding',
        'Cache-Control': 'no-cache, private',
        'Content-Length': zipped.length,
      });
      res.end(zipped);
    });
    return;
  }
  sendJSON(res, 200, body);
}

/** kube-apiserver gzips responses above 128 KiB for clients that accept it (APIResponseCompression), never watches. */
const GZIP_THRESHOLD = 128 * 1024;

function watch(core: ApiCore, rp: ResourcePath, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
  const table = core.catalog.table(rp.info);
  const { filter } = filterOf(core, rp, q);
  const rvParam = q.get('resourceVersion') ?? '';
  const timeoutSeconds = Number(q.get('timeoutSeconds') ?? core.options.defaultWatchTimeoutSeconds);
  const bookmarks = q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1';
  const sendInitialEvents = q.get('sendInitialEvents') === 'true';
  const fromCurrent = rvParam === '' || rvParam === '0' || sendInitialEvents;
  const from = fromCurrent ? 0 : Number(rvParam);
  if (!Number.isInteger(from) || from < 0) throw badRequest(`invalid resource version: ${rvParam}`);
  const w: WatchStream = new WatchStream({
    table,
    res,
    filter: filter ?? (() => true),
    bookmarks,
    bookmarkIntervalMs: core.options.bookmarkIntervalMs,
    timeoutMs: Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds * 1000 : 0,
    currentRV: () => core.resourceVersion,
    delayMs: () => core.faults.watchDelayMs,
    pausedUntil: () => core.faults.watchPausedUntil(rp.info.plural),
    table_: wantsTable(req.headers.accept) ? { include: includeOf(q) } : undefined,
    onClose: () => core.watches.delete(w),
  });
  core.watches.add(w);
  if (fromCurrent) {
    // No resourceVersion: the current state as synthetic ADDED events, then changes (api-concepts "Semantics for watch").
    const current = table.sortedKeys().map((k) => table.objects.get(k) as Stored);
    w.start(current, undefined, sendInitialEvents && bookmarks);
    return;
  }
  const history = table.eventsSince(from);
  w.start(undefined, history ?? [], false);
  if (!history) w.error(tooOldResourceVersion(from, table.floorRV + 1, core.options.expiredReason));
}

async function readBody(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

function objectBody(body: any): any {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
  return body;
}

export async function serveResource(
  core: ApiCore,
  verb: Verb,
  rp: ResourcePath,
  q: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { info } = rp;
  const table = core.catalog.table(info);
  // A namespaced object needs its namespace in the path.
  if (rp.name && info.namespaced && !rp.namespace) throw unknownPath();
  if (rp.subresource && rp.subresource !== 'status') throw unknownPath();
  const ns = rp.namespace;
  switch (verb) {
    case 'list':
      return list(core, rp, q, req, res);
    case 'watch':
      return watch(core, rp, q, req, res);
    case 'get': {
      const s = table.objects.get(keyOf(ns, rp.name));
      if (!s) throw notFound(info, rp.name);
      return sendJSON(res, 200, s.json);
    }
    case 'create': {
      if (rp.name) throw methodNotAllowed('POST');
      if (info.namespaced && !ns) throw unknownPath();
      // The NamespaceLifecycle admission plugin: no objects in a namespace that does not exist.
      if (info.namespaced && !core.tableFor('namespaces').objects.has(ns)) throw notFound(core.resource('namespaces'), ns);
      const s = core.registry.create(table, ns, objectBody(await readBody(req)), { owned: true });
      return sendJSON(res, 201, s.json);
    }
    case 'update': {
      if (!rp.name) throw methodNotAllowed('PUT');
      const s = core.registry.update(table, ns, rp.name, objectBody(await readBody(req)), { statusOnly: rp.subresource === 'status', owned: true });
      return sendJSON(res, 200, s.json);
    }
    case 'patch': {
      if (!rp.name) throw methodNotAllowed('PATCH');
      const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
      const body = await readBody(req);
      const cur = table.objects.get(keyOf(ns, rp.name));
      if (!cur) throw notFound(info, rp.name);
      const patched = applyPatch(contentType, cur.copy(), body);
      objectBody(patched);
      // A patch carrying a resourceVersion is a precondition; otherwise it applies to the version just read.
      const wanted = patched.metadata?.resourceVersion;
      patched.metadata = { ...patched.metadata, resourceVersion: wanted ?? String(cur.rv) };
      const s = core.registry.update(table, ns, rp.name, patched, { statusOnly: rp.subresource === 'status', owned: true });
      return sendJSON(res, 200, s.json);
    }
    case 'delete': {
      const opts = (await readBody(req)) ?? {};
      const pre = opts.preconditions ?? {};
      const s = core.registry.delete(table, ns, rp.name, pre);
      return sendJSON(res, 200, s.json);
    }
    case 'deletecollection': {
      const { filter } = filterOf(core, rp, q);
      const victims = [...table.objects.values()].filter((s) => !filter || filter(s));
      const deleted = victims.map((s) => core.registry.delete(table, s.obj.metadata.namespace ?? '', s.obj.metadata.name));
      const items = deleted.map((s) => (info.custom ? s.json : s.body)).join(',');
      const body = `{"kind":"${info.kind}List","apiVersion":"${apiVersionOf(info)}","metadata":{"resourceVersion":"${core.resourceVersion}"},"items":[${items}]}`;
      return sendJSON(res, 200, body);
    }
    default:
      throw new ApiError(badRequest(`unsupported verb ${verb}`).status);
  }
}
