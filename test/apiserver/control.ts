// The fault controls over HTTP under /_test/, for tests whose agents run in
// other processes (inside network namespaces). These paths skip auth, faults
// and request counting. Bodies and answers are JSON.
//
//   POST   /_test/faults         {"fail":{count,code?,path?,verb?,resource?,message?},
//                                 "stall":{ms,path?,verb?,resource?,watches?}, "watchDelayMs":N}
//   DELETE /_test/faults         clear all faults
//   POST   /_test/drop-watches   {"resource"?, "graceful"?}          → {"dropped":N}
//   POST   /_test/expire-watches {"resource"?}                       → {"expired":N}
//   POST   /_test/compact        {"resourceVersion"?}                → {"compactedTo":"N"}
//   GET    /_test/stats          request counts, open watches, current resourceVersion
//   GET    /_test/requests       the latest requests (verb, resource, url, code)
//   POST   /_test/reset-stats
//   POST   /_test/seed           {"objects":[…]} created or replaced, status included
//   POST   /_test/outage         {"ms":N}: connections cut, port closed for N ms, then back
//   POST   /_test/tokens         {"tokens":[…]}: the accepted bearer tokens from now on
//   GET    /_test/healthz

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiCore } from './core.ts';

async function readJSON(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

function reply(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function serveControl(core: ApiCore, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const route = `${req.method} ${path}`;
  try {
    switch (route) {
      case 'POST /_test/faults': {
        const b = await readJSON(req);
        if (b.fail) core.failNext(b.fail.count ?? 1, b.fail);
        if (b.stall) core.stall(b.stall.ms ?? 0, b.stall);
        if (typeof b.watchDelayMs === 'number') core.slowWatches(b.watchDelayMs);
        return reply(res, 200, { ok: true });
      }
      case 'DELETE /_test/faults':
        core.clearFaults();
        return reply(res, 200, { ok: true });
      case 'POST /_test/drop-watches': {
        const b = await readJSON(req);
        return reply(res, 200, { dropped: core.dropWatches({ resource: b.resource, graceful: b.graceful }) });
      }
      case 'POST /_test/expire-watches': {
        const b = await readJSON(req);
        return reply(res, 200, { expired: core.expireWatches({ resource: b.resource }) });
      }
      case 'POST /_test/compact': {
        const b = await readJSON(req);
        const rv = b.resourceVersion !== undefined ? Number(b.resourceVersion) : undefined;
        return reply(res, 200, { compactedTo: String(core.compact(rv)) });
      }
      case 'GET /_test/stats':
        return reply(res, 200, core.statsSnapshot());
      case 'GET /_test/requests':
        return reply(res, 200, { requests: core.stats.log() });
      case 'POST /_test/reset-stats':
        core.resetStats();
        return reply(res, 200, { ok: true });
      case 'POST /_test/seed': {
        const b = await readJSON(req);
        core.seed(b.objects ?? []);
        return reply(res, 200, { resourceVersion: String(core.resourceVersion) });
      }
      case 'POST /_test/outage': {
        // Answer first: the outage takes this very connection down too.
        const b = await readJSON(req);
        const server = core as Partial<{ outage(ms: number): Promise<void> }>;
        if (!server.outage) return reply(res, 404, { error: 'no outage without a listener' });
        reply(res, 200, { ok: true });
        res.on('finish', () => setTimeout(() => void server.outage!(Number(b.ms ?? 1000)), 10));
        return;
      }
      case 'POST /_test/tokens': {
        const b = await readJSON(req);
        const server = core as Partial<{ setTokens(...t: string[]): void }>;
        if (!server.setTokens || !Array.isArray(b.tokens)) return reply(res, 400, { error: 'body must be {"tokens":[…]}' });
        server.setTokens(...b.tokens);
        return reply(res, 200, { ok: true });
      }
      case 'GET /_test/healthz':
        return reply(res, 200, { ok: true });
      default:
        return reply(res, 404, { error: `no test control at ${route}` });
    }
  } catch (err) {
    return reply(res, 400, { error: (err as Error).message });
  }
}
