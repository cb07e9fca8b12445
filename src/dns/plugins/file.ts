import { readFileSync, statSync } from 'node:fs';
import type { Logger } from '../../base/log.ts';
import { FileZone } from './file-zone.ts';
import type { Ask, Next, Reply, Step } from './pipeline.ts';
import { replyWith } from './reply.ts';
import { parseZoneFile } from './zone-file.ts';

const under = (name: string, zone: string) => name === zone || name.endsWith(`.${zone}`);

/** Reads `path` as the zone file of each of `zones`; throws naming the file and line. */
export function loadZones(path: string, zones: string[]): FileZone[] {
  const text = readFileSync(path, 'utf8');
  return zones.map((origin) => {
    try {
      return new FileZone(origin, parseZoneFile(text, origin));
    } catch (err) {
      throw new Error(`${path}: ${(err as Error).message}`);
    }
  });
}

/**
 * CoreDNS's `file`: answers its zones from an RFC 1035 zone file, and
 * re-reads the file every `reloadMs` when it changed (a file that no longer
 * parses is logged and the zone kept as it was). Names outside its zones go on.
 */
export class FileStep implements Step {
  readonly plugin = 'file';
  readonly #path: string;
  readonly #zoneNames: string[];
  readonly #log: Logger | undefined;
  #zones: FileZone[];
  #stamp: string;
  #timer: NodeJS.Timeout | null = null;

  constructor(path: string, zones: string[], reloadMs: number, log?: Logger) {
    this.#path = path;
    this.#zoneNames = [...zones].sort((a, b) => b.length - a.length);
    this.#log = log;
    this.#zones = loadZones(path, this.#zoneNames);
    this.#stamp = this.#statStamp();
    if (reloadMs > 0) {
      this.#timer = setInterval(() => this.#reload(), reloadMs);
      this.#timer.unref();
    }
  }

  #statStamp(): string {
    try {
      const s = statSync(this.#path);
      return `${s.mtimeMs} ${s.size}`;
    } catch {
      return '';
    }
  }

  #reload(): void {
    const stamp = this.#statStamp();
    if (stamp === this.#stamp || stamp === '') return;
    this.#stamp = stamp;
    try {
      this.#zones = loadZones(this.#path, this.#zoneNames);
      this.#log?.info({ plugin: 'file', file: this.#path }, 'zone file reloaded');
    } catch (err) {
      this.#log?.error({ plugin: 'file', err }, 'zone file changed but does not load; keeping the zone as it was');
    }
  }

  run(ask: Ask, next: Next): Reply {
    const zone = this.#zones.find((z) => under(ask.query.name, z.origin));
    if (!zone) return next(ask);
    return replyWith(ask, zone.lookup(ask.query.name, ask.query.qtype));
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
