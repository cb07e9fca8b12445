// One WATCH stream: a chunked HTTP response of JSON lines
// {"type":…,"object":…}. Events are filtered by namespace and selectors with
// the apiserver's transition rule (an object that starts matching arrives as
// ADDED, one that stops matching as DELETED), written in batches per tick, and
// can be delayed or paused by faults. Bookmarks carry only
// metadata.resourceVersion (api-concepts "Watch bookmarks").

import type { ServerResponse } from 'node:http';
import type { ResourceInfo } from './resources.ts';
import { apiVersionOf } from './resources.ts';
import type { ChangeEvent, ResourceTable, Stored } from './storage.ts';
import type { Status } from './status.ts';
import type { IncludeObject } from './table.ts';
import { tableEventObject } from './table.ts';

export interface WatchOptions {
  table: ResourceTable;
  res: ServerResponse;
  filter: (s: Stored) => boolean;
  bookmarks: boolean;
  bookmarkIntervalMs: number;
  timeoutMs: number;
  /** Current global resourceVersion, for bookmarks. */
  currentRV: () => number;
  /** Per-event delay (slow streaming fault). */
  delayMs: () => number;
  /** Until when the stream is paused (stall fault); 0 when not. */
  pausedUntil: () => number;
  table_?: { include: IncludeObject };
  /** A stream larger than this in the socket buffer is a stuck client: drop it, as the apiserver does. */
  maxBufferedBytes?: number;
  onClose: (w: WatchStream) => void;
}

interface Queued {
  due: number;
  line: string;
}

export class WatchStream {
  readonly info: ResourceInfo;
  readonly #o: WatchOptions;
  #queue: Queued[] = [];
  #flushScheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #bookmarkTimer: NodeJS.Timeout | undefined;
  #timeout: NodeJS.Timeout | undefined;
  #closed = false;
  #firstTableEvent = true;
  readonly #listener: (ev: ChangeEvent) => void;

  constructor(o: WatchOptions) {
    this.#o = o;
    this.info = o.table.info;
    this.#listener = (ev) => this.#onChange(ev);
    o.res.on('close', () => this.#cleanup());
  }

  /** Streams history after `fromRV` (or the current state as ADDED when undefined), then live changes. */
  start(initial: Stored[] | undefined, history: ChangeEvent[] | undefined, initialEventsEnd: boolean): void {
    const { res } = this.#o;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    if (initial) for (const s of initial) if (this.#o.filter(s)) this.#send('ADDED', s);
    if (initialEventsEnd) this.#sendBookmark(true);
    if (history) for (const ev of history) this.#onChange(ev);
    this.#o.table.listeners.add(this.#listener);
    if (this.#o.bookmarks && this.#o.bookmarkIntervalMs > 0) {
      this.#bookmarkTimer = setInterval(() => this.#sendBookmark(false), this.#o.bookmarkIntervalMs);
    }
    if (this.#o.timeoutMs > 0) this.#timeout = setTimeout(() => this.end(), this.#o.timeoutMs);
  }

  #onChange(ev: ChangeEvent): void {
    const f = this.#o.filter;
    const now = f(ev.cur);
    const before = ev.prev ? f(ev.prev) : false;
    if (ev.type === 'ADDED') {
      if (now) this.#send('ADDED', ev.cur);
    } else if (ev.type === 'DELETED') {
      if (before) this.#send('DELETED', ev.cur);
    } else if (now && before) this.#send('MODIFIED', ev.cur);
    else if (now) this.#send('ADDED', ev.cur);
    else if (before) this.#send('DELETED', ev.cur);
  }

  #send(type: string, s: Stored): void {
    if (this.#o.table_) {
      const obj = tableEventObject(this.info, s, this.#o.table_.include, this.#firstTableEvent);
      this.#firstTableEvent = false;
      this.#enqueue(`{"type":"${type}","object":${obj}}\n`);
    } else this.#enqueue(`{"type":"${type}","object":${s.json}}\n`);
  }

  #sendBookmark(initialEventsEnd: boolean): void {
    const meta: Record<string, unknown> = { resourceVersion: String(this.#o.currentRV()) };
    if (initialEventsEnd) meta.annotations = { 'k8s.io/initial-events-end': 'true' };
    const obj = { kind: this.info.kind, apiVersion: apiVersionOf(this.info), metadata: meta };
    this.#enqueue(`{"type":"BOOKMARK","object":${JSON.stringify(obj)}}\n`);
  }

  /** Sends an ERROR event carrying `status` and ends the stream (410 for a too-old resourceVersion). */
  error(status: Status): void {
    this.#enqueue(`{"type":"ERROR","object":${JSON.stringify(status)}}\n`);
    this.end();
  }

  #enqueue(line: string): void {
    if (this.#closed) return;
    this.#queue.push({ due: Date.now() + this.#o.delayMs(), line });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushScheduled || this.#timer) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#closed) return;
    const now = Date.now();
    const paused = this.#o.pausedUntil();
    const wakeAt = paused > now ? paused : (this.#queue[0]?.due ?? 0);
    let n = 0;
    if (paused <= now) while (n < this.#queue.length && this.#queue[n].due <= now) n++;
    if (n > 0) {
      const batch = this.#queue.splice(0, n);
      this.#o.res.write(batch.length === 1 ? batch[0].line : batch.map((q) => q.line).join(''));
      if (this.#o.res.writableLength > (this.#o.maxBufferedBytes ?? 256 << 20)) {
        this.drop();
        return;
      }
    }
    if (this.#queue.length > 0) {
      const next = paused > now ? wakeAt : this.#queue[0].due;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#flush();
      }, Math.max(1, next - now));
    } else if (this.#ending) this.#finish();
  }

  #ending = false;

  /** Ends the stream cleanly after what is queued (as a watch timeout does). */
  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    if (this.#queue.length === 0 && !this.#timer) this.#finish();
    else this.#schedule();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#o.res.end();
    this.#cleanup();
  }

  /** Cuts the connection without ending the chunked stream (a dropped watch). */
  drop(): void {
    if (this.#closed) return;
    this.#o.res.socket?.destroy();
    this.#o.res.destroy();
    this.#cleanup();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #cleanup(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.table.listeners.delete(this.#listener);
    clearInterval(this.#bookmarkTimer);
    clearTimeout(this.#timeout);
    clearTimeout(this.#timer);
    this.#queue = [];
    this.#o.onClose(this);
  }
}
