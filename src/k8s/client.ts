import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { ApiError, ApiUnreachableError, WatchStalledError, apiErrorFromBody } from './api-errors.ts';
import { splitLines } from './line-decoder.ts';
import type { ClusterConnection } from './connection.ts';
import type { TokenSource } from './token-source.ts';
import { RequestLimiter } from './request-limiter.ts';
import type { RequestLimits } from './request-limiter.ts';

export { ApiError, ApiUnreachableError, WatchStalledError } from './api-errors.ts';

// The API server client. @kubernetes/client-node is deliberately not used: it
// brings its own HTTP stack and generated models, while netlet needs a handful
// of JSON calls and a line-streamed watch over the undici pool it already has.

export interface ApiClientOptions {
  /** https://host:port (http:// works too, e.g. behind `kubectl proxy`). */
  server: string;
  /** PEM bundle that signs the server's certificate; absent means the system roots. */
  ca?: string | Buffer;
  insecureSkipTLSVerify?: boolean;
  /** Verify the server certificate for this name instead of the URL's host (SNI too). */
  tlsServerName?: string;
  /** Client certificate and key (PEM) for x509 authentication. */
  cert?: string | Buffer;
  key?: string | Buffer;
  token?: TokenSource;
  /** Limit for one non-watch request (headers and each body gap), ms. */
  requestTimeoutMs?: number;
  userAgent?: string;
  /** Client-side rate and concurrency limits (a watch counts until its stream starts); absent: none. */
  limits?: RequestLimits;
}

/** Raw API JSON, before conversion to slim objects (src/k8s/convert/). */
// `any` on purpose: the shape is checked by the converters, not here.
export type RawJson = any;

export type Query = Record<string, string | number | boolean | undefined>;

/** One line of a watch stream (api-concepts). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: RawJson;
}

export interface ListResult<T = RawJson> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export interface WatchOptions {
  signal?: AbortSignal;
  /** A watch that delivers no bytes for this long fails with WatchStalledError. 0 = never. */
  idleTimeoutMs?: number;
}

/** Path of a collection or object: /api/v1/… for the core group, /apis/GROUP/VERSION/… otherwise. */
export function resourcePath(r: { group: string; version: string; resource: string; namespace?: string; name?: string }): string {
  let p = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespace) p += `/namespaces/${encodeURIComponent(r.namespace)}`;
  p += `/${r.resource}`;
  if (r.name) p += `/${encodeURIComponent(r.name)}`;
  return p;
}

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/**
 * JSON calls and watches against one API server over a keep-alive undici
 * pool. Failures are typed: ApiError for a Status answer (with `.status` and
 * `.reason`), ApiUnreachableError when no answer came at all. A 401 makes the
 * token source re-read its token and the call is tried once more (a rotated
 * service-account token).
 */
export class ApiClient {
  readonly server: string;
  readonly #pool: Pool;
  readonly #token: TokenSource | undefined;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #limiter: RequestLimiter | null;

  constructor(options: ApiClientOptions) {
    const url = new URL(options.server);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`server must be http(s)://, got ${options.server}`);
    this.server = url.origin;
    this.#token = options.token;
    this.#timeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#userAgent = options.userAgent ?? 'netlet/0.1';
    const l = options.limits;
    this.#limiter = l && (l.qps !== undefined || l.maxInflight !== undefined) ? new RequestLimiter(l) : null;
    this.#pool = new Pool(url.origin, {
      connect: {
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        rejectUnauthorized: !options.insecureSkipTLSVerify,
        ...(options.tlsServerName ? { servername: options.tlsServerName } : {}),
      },
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
    });
  }

  /** A client for a connection found by resolveConnection / loadKubeconfigFile / loadInClusterConfig. */
  static fromConnection(conn: ClusterConnection, options: { requestTimeoutMs?: number; userAgent?: string; limits?: RequestLimits } = {}): ApiClient {
    return new ApiClient({
      server: conn.server,
      ca: conn.ca,
      insecureSkipTLSVerify: conn.insecureSkipTLSVerify,
      tlsServerName: conn.tlsServerName,
      cert: conn.cert,
      key: conn.key,
      token: conn.token,
      ...options,
    });
  }

  get<T = RawJson>(path: string, query?: Query): Promise<T> {
    return this.#json<T>('GET', withQuery(path, query));
  }

  /** `signal` cancels the request (a reflector being stopped). */
  list<T = RawJson>(path: string, query?: Query, options: { signal?: AbortSignal } = {}): Promise<ListResult<T>> {
    return this.#json<ListResult<T>>('GET', withQuery(path, query), undefined, undefined, options.signal);
  }

  /** POST to the collection path. 409 AlreadyExists when the name is taken. */
  create<T = RawJson>(collectionPath: string, body: unknown): Promise<T> {
    return this.#json<T>('POST', collectionPath, body);
  }

  /** PUT to the object path. 409 Conflict when body.metadata.resourceVersion is stale. */
  update<T = RawJson>(objectPath: string, body: unknown): Promise<T> {
    return this.#json<T>('PUT', objectPath, body);
  }

  patch<T = RawJson>(
    objectPath: string,
    body: unknown,
    contentType: 'application/merge-patch+json' | 'application/strategic-merge-patch+json' | 'application/json-patch+json' = 'application/merge-patch+json',
  ): Promise<T> {
    return this.#json<T>('PATCH', objectPath, body, contentType);
  }

  /** DELETE; `preconditions` guard against deleting a newer version (uid / resourceVersion). */
  delete<T = RawJson>(objectPath: string, preconditions?: { uid?: string; resourceVersion?: string }): Promise<T> {
    const body = preconditions ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions } : undefined;
    return this.#json<T>('DELETE', objectPath, body);
  }

  /**
   * Streams a watch: one event per line, decoded as the chunks arrive (never
   * the whole body). Ends when the server ends the response (timeoutSeconds);
   * an HTTP error before the stream starts throws ApiError. `ERROR` events are
   * yielded as they are: the caller decides (410 → relist).
   */
  async *watch(path: string, query: Query = {}, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
    const target = withQuery(path, { ...query, watch: 'true' });
    const idle = options.idleTimeoutMs ?? 0;
    // A watch holds its limiter slot until its stream starts: it then runs for minutes, as client-go counts it.
    const release = await this.#limiter?.acquire();
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#send('GET', target, undefined, undefined, { signal: options.signal, bodyTimeout: idle, stream: true });
    } finally {
      release?.();
    }
    try {
      for await (const line of splitLines(res.body)) {
        yield JSON.parse(line) as WatchEvent;
      }
    } catch (err) {
      if ((err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT') throw new WatchStalledError(path, idle);
      if (options.signal?.aborted) return;
      if (err instanceof SyntaxError) throw err;
      throw new ApiUnreachableError(this.server, err);
    } finally {
      if (!res.body.destroyed) res.body.destroy();
    }
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }

  async #json<T>(method: Dispatcher.HttpMethod, path: string, body?: unknown, contentType = 'application/json', signal?: AbortSignal): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const release = await this.#limiter?.acquire();
    try {
      const res = await this.#send(method, path, payload, contentType, { signal });
      try {
        return (await res.body.json()) as T;
      } catch (err) {
        if (err instanceof SyntaxError) throw new ApiError(res.statusCode, '', `${method} ${path}: response is not JSON: ${err.message}`);
        if (signal?.aborted) throw err;
        throw new ApiUnreachableError(this.server, err);
      }
    } finally {
      release?.();
    }
  }

  /** Sends once, and once more after a 401 with a freshly read token. Non-2xx → ApiError. */
  async #send(
    method: Dispatcher.HttpMethod,
    path: string,
    payload: string | undefined,
    contentType: string | undefined,
    opts: { signal?: AbortSignal; bodyTimeout?: number; stream?: boolean },
  ): Promise<Dispatcher.ResponseData> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.#userAgent };
      if (payload !== undefined) headers['content-type'] = contentType ?? 'application/json';
      if (this.#token) headers.authorization = `Bearer ${await this.#token.token()}`;
      let res: Dispatcher.ResponseData;
      try {
        res = await this.#pool.request({
          method,
          path,
          headers,
          body: payload,
          signal: opts.signal,
          headersTimeout: this.#timeoutMs,
          bodyTimeout: opts.stream ? (opts.bodyTimeout ?? 0) : this.#timeoutMs,
        });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        throw new ApiUnreachableError(this.server, err);
      }
      if (res.statusCode >= 200 && res.statusCode < 300) return res;
      const text = await res.body.text().catch(() => '');
      if (res.statusCode === 401 && this.#token && attempt === 0) {
        this.#token.invalidate();
        continue;
      }
      throw apiErrorFromBody(res.statusCode, text);
    }
  }
}
