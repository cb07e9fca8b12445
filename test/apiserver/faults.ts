// Fault injection and request accounting: the reason this server exists.
// Rules match requests by verb, resource and a substring of the URL; the
// server consults them before serving each API request.

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'discovery';

export interface RequestInfo {
  verb: Verb;
  /** Plural, e.g. "services"; '' for discovery and unknown paths. */
  resource: string;
  namespace: string;
  name: string;
  /** Path and query as received. */
  url: string;
}

export interface Match {
  /** Substring of the URL (path + query). */
  path?: string;
  verb?: Verb;
  resource?: string;
}

export interface FailOptions extends Match {
  /** HTTP code of the Status to return (default 500). */
  code?: number;
  message?: string;
  /** Seconds for Retry-After (and details.retryAfterSeconds); default 1 for 429/503. */
  retryAfterSeconds?: number;
  /** Instead of a Status: cut the connection without answering. */
  reset?: boolean;
  /** Instead of a Status: serve the request but cut the connection halfway through the body. */
  truncate?: boolean;
}

export interface StallOptions extends Match {
  /** Also pause the events of already open watches (default true). */
  watches?: boolean;
}

interface FailRule extends FailOptions {
  remaining: number;
}

interface StallRule extends StallOptions {
  until: number;
}

function matches(m: Match, req: RequestInfo): boolean {
  return (!m.verb || m.verb === req.verb) && (!m.resource || m.resource === req.resource) && (!m.path || req.url.includes(m.path));
}

export interface LoggedRequest extends RequestInfo {
  method: string;
  code: number;
  at: number;
  userAgent?: string;
  /** The bearer token presented, if any (a test server: tests check which token a client used). */
  bearer?: string;
  /** True when the TLS client certificate verified against the client CA. */
  clientCert?: boolean;
}

export class Faults {
  #fail: FailRule[] = [];
  #stall: StallRule[] = [];
  /** Every watch event is held this long before it is written. */
  watchDelayMs = 0;

  /** The next `count` requests matching return an error Status. */
  failNext(count: number, opts: FailOptions = {}): void {
    this.#fail.push({ ...opts, remaining: count });
  }

  /** Requests matching, arriving during the next `ms`, get no answer until the window ends. */
  stall(ms: number, opts: StallOptions = {}): void {
    this.#stall.push({ ...opts, until: Date.now() + ms });
  }

  clear(): void {
    this.#fail = [];
    this.#stall = [];
    this.watchDelayMs = 0;
  }

  /** Consumes one failure for this request, if a rule matches. */
  takeFailure(req: RequestInfo): FailOptions | undefined {
    const rule = this.#fail.find((r) => r.remaining > 0 && matches(r, req));
    if (!rule) return undefined;
    rule.remaining--;
    this.#fail = this.#fail.filter((r) => r.remaining > 0);
    return rule;
  }

  /** Milliseconds this request must wait before it is served (0: none). */
  stallFor(req: RequestInfo): number {
    const now = Date.now();
    this.#stall = this.#stall.filter((r) => r.until > now);
    let wait = 0;
    for (const r of this.#stall) if (matches(r, req)) wait = Math.max(wait, r.until - now);
    return wait;
  }

  /** Until when open watches of this resource are paused (0: not paused). */
  watchPausedUntil(resource: string): number {
    const now = Date.now();
    let until = 0;
    for (const r of this.#stall) {
      if (r.until > now && r.watches !== false && (!r.resource || r.resource === resource) && (!r.verb || r.verb === 'watch')) {
        until = Math.max(until, r.until);
      }
    }
    return until;
  }
}

export interface StatsSnapshot {
  /** "verb resource" → count, e.g. "list services": 2. */
  requests: Record<string, number>;
  total: number;
  openWatches: number;
  resourceVersion: string;
}

export class RequestStats {
  #counts = new Map<string, number>();
  #log: LoggedRequest[] = [];
  readonly #logLimit: number;

  constructor(logLimit = 2000) {
    this.#logLimit = logLimit;
  }

  record(req: RequestInfo, method: string, extra: Partial<LoggedRequest> = {}): LoggedRequest {
    const k = req.resource ? `${req.verb} ${req.resource}` : req.verb;
    this.#counts.set(k, (this.#counts.get(k) ?? 0) + 1);
    const entry: LoggedRequest = { ...req, method, code: 0, at: Date.now(), ...extra };
    this.#log.push(entry);
    if (this.#log.length > this.#logLimit) this.#log.splice(0, this.#log.length - this.#logLimit);
    return entry;
  }

  count(verb: Verb, resource?: string): number {
    if (resource) return this.#counts.get(`${verb} ${resource}`) ?? 0;
    let n = 0;
    for (const [k, v] of this.#counts) if (k === verb || k.startsWith(`${verb} `)) n += v;
    return n;
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** The latest requests, oldest first (bounded). */
  log(): LoggedRequest[] {
    return [...this.#log];
  }

  reset(): void {
    this.#counts.clear();
    this.#log = [];
  }
}
