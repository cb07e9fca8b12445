// startApiServer(): the test Kubernetes API server on node:http or node:https.
// Order per request, as in kube-apiserver's filter chain: authentication
// (bearer token or verified client certificate), then (our addition) fault
// injection, then discovery or the resource handler. Errors become Status
// objects.

import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { ApiCore } from './core.ts';
import type { CoreOptions } from './core.ts';
import { discoveryDoc } from './discovery.ts';
import { parseResourcePath } from './routes.ts';
import { serveResource, sendJSON, verbOf } from './resource-handler.ts';
import { serveControl } from './control.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import type { KubeconfigOptions } from './kubeconfig.ts';
import { ApiError, internalError, statusOf, unauthorized, unknownPath } from './status.ts';
import type { Status } from './status.ts';
import type { FailOptions, LoggedRequest, RequestInfo } from './faults.ts';

export interface TlsOptions {
  /** PEM text or a file path of the server certificate and key. */
  cert: string;
  key: string;
  /** CA that signs client certificates; enables client-certificate authentication. */
  clientCA?: string;
  /** Reject connections without a valid client certificate (default false: a token may be used instead). */
  requireClientCert?: boolean;
}

export interface ApiServerOptions extends CoreOptions {
  /** Listen address (default 127.0.0.1) and port (default 0: any). */
  host?: string;
  port?: number;
  tls?: TlsOptions;
  /** When set, requests need `Authorization: Bearer <token>` or a verified client certificate (401 otherwise). */
  token?: string;
}

const bearerOf = (req: IncomingMessage): string | undefined => /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];

const pem = (v: string): string => (v.includes('-----BEGIN') ? v : readFileSync(v, 'utf8'));

export class ApiServer extends ApiCore {
  readonly #server: http.Server;
  #tokens: string[];
  readonly #clientCertAuth: boolean;
  #url = '';
  #host = '127.0.0.1';

  constructor(o: ApiServerOptions = {}) {
    super(o);
    this.#tokens = o.token ? [o.token] : [];
    this.#clientCertAuth = !!o.tls?.clientCA;
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.#handle(req, res);
    if (o.tls) {
      this.#server = https.createServer(
        {
          cert: pem(o.tls.cert),
          key: pem(o.tls.key),
          ca: o.tls.clientCA ? pem(o.tls.clientCA) : undefined,
          requestCert: !!o.tls.clientCA,
          rejectUnauthorized: !!o.tls.requireClientCert,
        },
        handler,
      );
    } else this.#server = http.createServer(handler);
    this.#server.keepAliveTimeout = 60_000;
  }

  /** Base URL, e.g. http://127.0.0.1:34567 */
  get url(): string {
    return this.#url;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /**
   * An API server outage: connections cut, the port refuses connections for
   * `ms`, then the same server (same state, same port) listens again. Resolves
   * when it is back.
   */
  async outage(ms: number): Promise<void> {
    const host = this.#host;
    const port = this.port;
    await this.close();
    await new Promise((r) => setTimeout(r, ms));
    await this.listen(host, port);
  }

  async listen(host: string, port: number): Promise<void> {
    this.#host = host;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => resolve());
    });
    const scheme = this.#server instanceof https.Server ? 'https' : 'http';
    const h = host.includes(':') ? `[${host}]` : host;
    this.#url = `${scheme}://${h}:${this.port}`;
  }

  /** Writes a kubeconfig for this server (its token unless another is given) and returns the path. */
  writeKubeconfig(path: string, o: Omit<KubeconfigOptions, 'server'> = {}): Promise<string> {
    return writeKubeconfig(path, { token: this.#tokens[0], ...o, server: this.url });
  }

  /** Stops listening and cuts every connection (open watches included). */
  async close(): Promise<void> {
    this.closeAllWatches();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /**
   * Replaces the accepted bearer tokens (none: no token auth). Rotating a
   * service account token is this: accept old and new for a while, then only
   * the new one.
   */
  setTokens(...tokens: string[]): void {
    this.#tokens = tokens;
  }

  get tokens(): string[] {
    return [...this.#tokens];
  }

  #authenticated(req: IncomingMessage): boolean {
    if (this.#tokens.length === 0 && !this.#clientCertAuth) return true;
    const bearer = bearerOf(req);
    if (bearer !== undefined && this.#tokens.includes(bearer)) return true;
    if (this.#clientCertAuth && (req.socket as TLSSocket).authorized) return true;
    return false;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    if (path.startsWith('/_test/')) return serveControl(this, req, res, path);
    let entry: LoggedRequest | undefined;
    try {
      const rp = parseResourcePath(this.catalog, path);
      const info: RequestInfo = rp
        ? { verb: verbOf(req.method ?? 'GET', rp, url.searchParams), resource: rp.info.plural, namespace: rp.namespace, name: rp.name, url: req.url ?? '/' }
        : { verb: 'discovery', resource: '', namespace: '', name: '', url: req.url ?? '/' };
      entry = this.stats.record(info, req.method ?? 'GET', {
        userAgent: req.headers['user-agent'],
        bearer: bearerOf(req),
        clientCert: (req.socket as TLSSocket).authorized === true,
      });
      if (!this.#authenticated(req)) throw new ApiError(unauthorized());
      const wait = this.faults.stallFor(info);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const failure = this.faults.takeFailure(info);
      if (failure?.reset) {
        entry.code = -1;
        req.socket.destroy();
        return;
      }
      if (failure?.truncate) this.#truncate(res);
      else if (failure) return this.#sendFailure(res, entry, failure);
      if (rp) {
        await serveResource(this, info.verb, rp, url.searchParams, req, res);
        entry.code = res.statusCode;
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') throw unknownPath();
      if (path === '/healthz' || path === '/livez' || path === '/readyz') {
        entry.code = 200;
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        return void res.end('ok');
      }
      const doc = discoveryDoc(this.catalog, path, `${req.headers.host ?? ''}`);
      if (!doc) throw unknownPath();
      entry.code = 200;
      return sendJSON(res, 200, JSON.stringify(doc));
    } catch (err) {
      const status: Status = err instanceof ApiError ? err.status : internalError((err as Error).message);
      if (entry) entry.code = status.code;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJSON(res, status.code, JSON.stringify(status));
    }
  }

  /** Makes the response's body stop halfway: the client sees a premature close. */
  #truncate(res: ServerResponse): void {
    res.end = ((chunk?: unknown) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.alloc(0);
      res.write(buf.subarray(0, Math.floor(buf.length / 2)), () => res.socket?.destroy());
      return res;
    }) as ServerResponse['end'];
  }

  #sendFailure(res: ServerResponse, entry: LoggedRequest, failure: FailOptions): void {
    const code = failure.code ?? 500;
    const status = code === 500 ? internalError(failure.message ?? 'injected fault') : statusOf(code, failure.message ?? `injected fault (${code})`);
    const retry = failure.retryAfterSeconds ?? (code === 429 || code === 503 ? 1 : undefined);
    if (retry !== undefined) {
      status.details = { ...status.details, retryAfterSeconds: retry };
      res.setHeader('Retry-After', String(retry));
    }
    entry.code = code;
    sendJSON(res, code, JSON.stringify(status));
  }
}

/** Starts a server; `close()` it in teardown. */
export async function startApiServer(o: ApiServerOptions = {}): Promise<ApiServer> {
  const s = new ApiServer(o);
  await s.listen(o.host ?? '127.0.0.1', o.port ?? 0);
  return s;
}
