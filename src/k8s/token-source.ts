import { readFile } from 'node:fs/promises';
import { ConfigError } from '../base/errors.ts';

/** Where a bearer token comes from; the client asks before every request. */
export interface TokenSource {
  token(): Promise<string>;
  /** Called after a 401: the next `token()` must not serve a cached value. */
  invalidate(): void;
}

export class StaticToken implements TokenSource {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  async token(): Promise<string> {
    return this.#value;
  }

  invalidate(): void {}
}

/**
 * A token kept in a file that something else rotates (kubelet's projected
 * service-account token is refreshed well before it expires; client-go
 * re-reads it at most once a minute). Re-read when older than `maxAgeMs`, and
 * right after a 401. A failed re-read keeps the last good token.
 */
export class FileToken implements TokenSource {
  readonly path: string;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #value = '';
  #readAt = -Infinity;

  constructor(path: string, options: { maxAgeMs?: number; now?: () => number } = {}) {
    this.path = path;
    this.#maxAgeMs = options.maxAgeMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  async token(): Promise<string> {
    if (this.#now() - this.#readAt < this.#maxAgeMs && this.#value) return this.#value;
    try {
      const text = (await readFile(this.path, 'utf8')).trim();
      if (!text) throw new Error('file is empty');
      this.#value = text;
      this.#readAt = this.#now();
    } catch (err) {
      if (!this.#value) throw new ConfigError('tokenFile', `cannot read token file ${this.path}: ${(err as Error).message}`);
    }
    return this.#value;
  }

  invalidate(): void {
    this.#readAt = -Infinity;
  }
}
