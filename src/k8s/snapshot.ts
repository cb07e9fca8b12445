// The last known cluster state on disk: what an edge node serves when its API
// server is unreachable at start (docs/api-access.md). The writer follows the
// store and rewrites the file atomically, so a crash or power loss leaves
// either the old snapshot or the new one, never a mix.

import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidObjectError, NetletError } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import { FileTooLargeError, readAtMost } from '../base/read-at-most.ts';
import { checkSlim } from './convert/slim.ts';
import { ALL_KINDS } from './objects.ts';
import type { AnyObject, Kind } from './objects.ts';
import type { ObjectStore } from './store.ts';

const FORMAT = 'netlet-snapshot';
/** Bump when the slim objects change incompatibly; an older agent then refuses the file instead of misreading it. */
export const SNAPSHOT_VERSION = 1;

/**
 * The largest snapshot read or written. Parsing holds the text and then the
 * objects (several times the text), so a file of any size would cost the
 * agent any memory (issue 13), like a manifest file (manifest-files.ts).
 * A snapshot takes ~200 bytes per endpoint (bench/snapshot.ts: 225 MB at
 * 10,000 Services × 100 endpoints with 100k Pods); 64 MiB holds about twice
 * Kubernetes' scalability envelope (150k Pods), whose store alone is more
 * than the DaemonSet's 384Mi memory limit would have left anyway.
 */
export const MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;

/**
 * ERR_SNAPSHOT_MISSING when there is no file, ERR_SNAPSHOT_CORRUPT when it
 * cannot be trusted, ERR_SNAPSHOT_TOO_LARGE past MAX_SNAPSHOT_BYTES.
 */
export class SnapshotError extends NetletError {
  readonly file: string;

  constructor(code: 'ERR_SNAPSHOT_MISSING' | 'ERR_SNAPSHOT_CORRUPT' | 'ERR_SNAPSHOT_TOO_LARGE', file: string, reason: string, options?: { cause?: unknown }) {
    super(code, `snapshot ${file}: ${reason}`, options);
    this.file = file;
  }
}

export interface Snapshot {
  savedAt: Date;
  /** The objects that passed checkSlim. */
  objects: AnyObject[];
  /** One error per object that did not (a hand-edited name, an address with a zone): each is left out alone. */
  rejected: InvalidObjectError[];
}

// Per kind, fields whose type must be right for consumers not to crash on a
// hand-edited or half-migrated file. Deeper checks would cost more than the
// file's own atomic write protects against.
const SHAPES: { readonly [K in Kind]: readonly [string, 'string' | 'number' | 'boolean' | 'array' | 'object'][] } = {
  Service: [['type', 'string'], ['clusterIPs', 'array'], ['ports', 'array'], ['externalIPs', 'array'], ['loadBalancerIngressIPs', 'array'], ['loadBalancerSourceRanges', 'array'], ['sessionAffinityTimeoutSeconds', 'number'], ['headless', 'boolean'], ['ipFamilies', 'array']],
  EndpointSlice: [['serviceName', 'string'], ['addressType', 'string'], ['ports', 'array'], ['endpoints', 'array'], ['triggerTimeMs', 'number']],
  Node: [['podCIDRs', 'array'], ['internalIPs', 'array'], ['externalIPs', 'array'], ['ready', 'boolean'], ['labels', 'object']],
  Pod: [['nodeName', 'string'], ['podIPs', 'array'], ['hostNetwork', 'boolean']],
  Namespace: [],
  IPAMBlock: [['cidr', 'string'], ['node', 'string'], ['pool', 'string']],
  BGPConfiguration: [],
  BGPPeer: [['peerIP', 'string'], ['asNumber', 'number'], ['node', 'string'], ['nodeSelector', 'string'], ['peerSelector', 'string'], ['port', 'number'], ['sourceAddress', 'string']],
  ServiceImport: [['type', 'string'], ['ips', 'array'], ['ports', 'array']],
};

const typeOf = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

/**
 * Reads and checks a snapshot. Throws SnapshotError when the file cannot be
 * trusted (damaged, another format, a field of the wrong type); then nothing
 * is returned. An object whose values break the API server's rules is left
 * out alone and reported in `rejected`.
 */
export async function readSnapshot(file: string, maxBytes = MAX_SNAPSHOT_BYTES): Promise<Snapshot> {
  let text: string;
  try {
    text = await readAtMost(file, maxBytes);
  } catch (err) {
    if (err instanceof FileTooLargeError) {
      throw new SnapshotError('ERR_SNAPSHOT_TOO_LARGE', file, `${err.size} bytes is more than the ${maxBytes} a snapshot may have; not read`);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SnapshotError('ERR_SNAPSHOT_MISSING', file, 'no such file', { cause: err });
    throw new SnapshotError('ERR_SNAPSHOT_CORRUPT', file, `cannot read: ${(err as Error).message}`, { cause: err });
  }
  const corrupt = (reason: string): never => {
    throw new SnapshotError('ERR_SNAPSHOT_CORRUPT', file, reason);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return corrupt(`not valid JSON (${(err as Error).message}); truncated or damaged`);
  }
  if (typeOf(doc) !== 'object') return corrupt('not a snapshot object');
  const d = doc as Record<string, unknown>;
  if (d.format !== FORMAT) corrupt(`not a netlet snapshot (format ${JSON.stringify(d.format)})`);
  if (d.version !== SNAPSHOT_VERSION) corrupt(`format version ${JSON.stringify(d.version)} is not ${SNAPSHOT_VERSION}, the one this netlet reads`);
  const savedAt = new Date(typeof d.savedAt === 'string' ? d.savedAt : NaN);
  if (Number.isNaN(savedAt.getTime())) corrupt(`savedAt ${JSON.stringify(d.savedAt)} is not a time`);
  if (!Array.isArray(d.objects)) return corrupt('objects is not a list');
  if (typeof d.count === 'number' && d.count !== d.objects.length) corrupt(`holds ${d.objects.length} objects, its header says ${d.count}`);

  const kinds = new Set<string>(ALL_KINDS);
  const objects: AnyObject[] = [];
  const rejected: InvalidObjectError[] = [];
  for (let i = 0; i < d.objects.length; i++) {
    const o = d.objects[i] as Record<string, unknown>;
    if (typeOf(o) !== 'object') corrupt(`objects[${i}] is not an object`);
    if (typeof o.kind !== 'string' || !kinds.has(o.kind)) corrupt(`objects[${i}] has unknown kind ${JSON.stringify(o.kind)}`);
    const meta = o.meta as Record<string, unknown>;
    if (typeOf(meta) !== 'object') corrupt(`objects[${i}] (${String(o.kind)}) has no meta`);
    for (const f of ['namespace', 'name', 'uid', 'resourceVersion']) {
      if (typeof meta[f] !== 'string') corrupt(`objects[${i}] (${String(o.kind)}) meta.${f} is ${typeOf(meta[f])}, not a string`);
    }
    if (!meta.name) corrupt(`objects[${i}] (${String(o.kind)}) has no name`);
    for (const [field, type] of SHAPES[o.kind as Kind]) {
      if (typeOf(o[field]) !== type) corrupt(`objects[${i}] (${String(o.kind)} ${JSON.stringify(meta.name)}) ${field} is ${typeOf(o[field])}, not ${type}`);
    }
    try {
      checkSlim(o as unknown as AnyObject);
      objects.push(o as unknown as AnyObject);
    } catch (err) {
      if (!(err instanceof InvalidObjectError)) throw err;
      rejected.push(err);
    }
  }
  return { savedAt, objects, rejected };
}

/**
 * Writes `objects` to `file` atomically: a temp file in the same folder
 * (rename is only atomic within one filesystem), fsync, rename over the old
 * file, fsync the folder so the rename itself survives a power loss.
 * Objects are serialized in chunks of about 1 MB with a write between
 * them, so a large cluster's snapshot never blocks the event loop (DNS
 * answers, health checks) for the whole serialization. A state of more than
 * `maxBytes` is not written (ERR_SNAPSHOT_TOO_LARGE): the reader would
 * refuse it, and the previous file is left as it was.
 */
export async function writeSnapshot(file: string, objects: readonly AnyObject[], savedAt = new Date(), maxBytes = MAX_SNAPSHOT_BYTES): Promise<void> {
  const header = JSON.stringify({ format: FORMAT, version: SNAPSHOT_VERSION, savedAt: savedAt.toISOString(), count: objects.length });
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    let chunk = `${header.slice(0, -1)},"objects":[`;
    let bytes = 0;
    const write = async (text: string) => {
      bytes += Buffer.byteLength(text);
      if (bytes > maxBytes) {
        throw new SnapshotError('ERR_SNAPSHOT_TOO_LARGE', file, `the state of ${objects.length} objects takes more than the ${maxBytes} bytes a snapshot may have; not written (the previous snapshot, if any, is kept)`);
      }
      await fh.write(text);
    };
    for (let i = 0; i < objects.length; i++) {
      chunk += (i === 0 ? '' : ',') + JSON.stringify(objects[i]);
      if (chunk.length >= CHUNK_CHARS) {
        await write(chunk);
        chunk = '';
      }
    }
    await write(chunk + ']}');
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

const CHUNK_CHARS = 1 << 20;

export interface SnapshotWriterOptions {
  file: string;
  store: ObjectStore;
  log: Logger;
  /** Quiet time after a change before writing; the default is one second. */
  debounceMs?: number;
  /**
   * Kinds that must be synced before anything is written: a store still
   * filling up after a restart must not overwrite a complete snapshot with
   * a partial one. Defaults to every kind.
   */
  requireSynced?: readonly Kind[];
  /** A larger state is not written (MAX_SNAPSHOT_BYTES; tests lower it). */
  maxBytes?: number;
}

/** Keeps `file` in step with the store. */
export class SnapshotWriter {
  readonly #file: string;
  readonly #store: ObjectStore;
  readonly #log: Logger;
  readonly #debounceMs: number;
  readonly #requireSynced: readonly Kind[];
  readonly #maxBytes: number;
  #unsubscribe: (() => void) | undefined;
  #unsubscribeSync: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #dirty = false;
  #writing: Promise<void> | undefined;
  #writes = 0;
  #lastError: Error | undefined;

  constructor(options: SnapshotWriterOptions) {
    if (!options.file) throw new TypeError('SnapshotWriter: file is required');
    this.#file = options.file;
    this.#store = options.store;
    this.#log = options.log;
    this.#debounceMs = options.debounceMs ?? 1000;
    this.#requireSynced = options.requireSynced ?? ALL_KINDS;
    this.#maxBytes = options.maxBytes ?? MAX_SNAPSHOT_BYTES;
  }

  /** Completed writes. */
  get writes(): number {
    return this.#writes;
  }

  /** The last write's failure, undefined after a success. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Follows the store; the first write happens once the required kinds are synced. */
  async start(): Promise<void> {
    await this.#removeStaleTemps();
    this.#dirty = true; // the store's current content has not been written by this writer yet
    this.#unsubscribe = this.#store.subscribe(() => this.#changed());
    this.#unsubscribeSync = this.#store.onSynced(() => this.#changed());
    this.#changed();
  }

  /** Stops following the store after writing what is pending. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribeSync?.();
    this.#unsubscribe = this.#unsubscribeSync = undefined;
    await this.flush();
  }

  /** Writes pending changes now (when the store is synced enough to be worth saving). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#writing) await this.#writing;
    if (!this.#dirty || !this.#store.isSynced(...this.#requireSynced)) return;
    this.#dirty = false;
    this.#writing = this.#write().finally(() => (this.#writing = undefined));
    await this.#writing;
  }

  #changed(): void {
    this.#dirty = true;
    if (this.#timer || !this.#store.isSynced(...this.#requireSynced)) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#debounceMs);
    this.#timer.unref?.();
  }

  async #write(): Promise<void> {
    const objects: AnyObject[] = [];
    for (const kind of ALL_KINDS) for (const o of this.#store.list(kind)) objects.push(o);
    const started = performance.now();
    try {
      await writeSnapshot(this.#file, objects, new Date(), this.#maxBytes);
      this.#writes++;
      this.#lastError = undefined;
      this.#log.debug({ file: this.#file, objects: objects.length, ms: Math.round(performance.now() - started) }, 'snapshot written');
    } catch (err) {
      // Keep the old snapshot and try again after the next quiet period.
      this.#lastError = err as Error;
      this.#log.error({ err, file: this.#file }, 'cannot write snapshot; the previous one is kept');
      if (this.#unsubscribe) this.#changed();
    }
  }

  /** Temp files left by a writer that crashed mid-write (ours carry the pid of their writer). */
  async #removeStaleTemps(): Promise<void> {
    const prefix = `.${basename(this.#file)}.tmp-`;
    const entries = await readdir(dirname(this.#file)).catch(() => [] as string[]);
    for (const name of entries) {
      if (!name.startsWith(prefix)) continue;
      const pid = Number(name.slice(prefix.length).split('-')[0]);
      if (pid === process.pid || !isAlive(pid)) await unlink(join(dirname(this.#file), name)).catch(() => {});
    }
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
