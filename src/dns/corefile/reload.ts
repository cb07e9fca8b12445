import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/**
 * CoreDNS's `reload`: re-reads the Corefile every interval ± jitter and
 * calls `onChange` with the new text when its MD5 differs from the last one
 * seen (a change back and forth between checks is not a change). The caller
 * applies it, or keeps the old configuration and logs if it does not parse.
 */
export class CorefileWatcher {
  readonly #file: string;
  readonly #intervalMs: number;
  readonly #jitterMs: number;
  readonly #onChange: (text: string) => Promise<void>;
  #sum = '';
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(file: string, opts: { intervalMs: number; jitterMs: number }, onChange: (text: string) => Promise<void>) {
    this.#file = file;
    this.#intervalMs = opts.intervalMs;
    this.#jitterMs = opts.jitterMs;
    this.#onChange = onChange;
  }

  /** Remembers the current contents (the ones already applied) and starts checking. */
  async start(): Promise<void> {
    this.#sum = createHash('md5').update(await readFile(this.#file)).digest('hex');
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  /** One check now; true when the file changed. */
  async check(): Promise<boolean> {
    let text: Buffer;
    try {
      text = await readFile(this.#file);
    } catch {
      return false; // a Corefile being replaced can be briefly missing; the next check sees it
    }
    const sum = createHash('md5').update(text).digest('hex');
    if (sum === this.#sum) return false;
    this.#sum = sum;
    await this.#onChange(text.toString('utf8'));
    return true;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const delay = this.#intervalMs + (Math.random() * 2 - 1) * this.#jitterMs;
    this.#timer = setTimeout(() => void this.check().finally(() => this.#schedule()), Math.max(delay, 1000));
    this.#timer.unref();
  }
}
