// A minimal watch reader for tests of the server itself: opens a watch with
// fetch and yields the JSON-lines events as they arrive. (netlet's own
// reflector lives in src/k8s/; this only observes the wire.)

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: any;
}

export interface OpenWatch {
  status: number;
  /** Resolves with the next event, or undefined when the stream ended. */
  next(timeoutMs?: number): Promise<WatchEvent | undefined>;
  /** Events until the stream ends. */
  rest(): Promise<WatchEvent[]>;
  close(): void;
  /** How the stream ended: 'end' (clean), 'error' (connection cut), or undefined while open. */
  readonly ended: 'end' | 'error' | undefined;
}

export async function openWatch(url: string, init: RequestInit = {}): Promise<OpenWatch> {
  const ac = new AbortController();
  const res = await fetch(url, { ...init, signal: ac.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const queue: WatchEvent[] = [];
  let ended: 'end' | 'error' | undefined;
  let wake: (() => void) | undefined;
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) queue.push(JSON.parse(line));
        }
        wake?.();
      }
      ended = 'end';
    } catch {
      ended = 'error';
    }
    wake?.();
  })();
  const next = async (timeoutMs = 5000): Promise<WatchEvent | undefined> => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0 && !ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('watch: no event within timeout');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
      wake = undefined;
    }
    return queue.shift();
  };
  return {
    status: res.status,
    next,
    async rest() {
      const out: WatchEvent[] = [];
      for (let e = await next(60_000); e; e = await next(60_000)) out.push(e);
      return out;
    },
    close: () => ac.abort(),
    get ended() {
      return ended;
    },
  };
}
