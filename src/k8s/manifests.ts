// The manifest-folder source: Kubernetes YAML/JSON files in a folder stand in
// for an API server (edge nodes without a cluster, `netlet demo`). The store
// is made to hold exactly what the files define, and follows edits live.

import { createHash } from 'node:crypto';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { ConfigError, InvalidObjectError } from '../base/errors.ts';
import { flatString } from '../base/flat-string.ts';
import type { Logger } from '../base/log.ts';
import { API_VERSIONS, converterFor, kindOf, sameLeanObject } from './convert/index.ts';
import type { LeanKind } from './convert/index.ts';
import { listManifestFiles, MAX_MANIFEST_FILE_BYTES, MAX_YAML_TOKENS, ManifestSyntaxError, ManifestTooLargeError, parseManifests, readManifestFile } from './manifest-files.ts';
import { applyDefinitions, keyOfDefinition, kindOfDefinition, PackedPodDefinition } from './manifest-apply.ts';
import type { Definition, FileDefinitions } from './manifest-apply.ts';
import { isPackablePod, packPod, samePacked } from './packed-pod.ts';
import { ALL_KINDS, objectKey } from './objects.ts';
import type { AnyObject, Kind } from './objects.ts';
import type { ObjectStore } from './store.ts';
import { selects } from './label-selector.ts';
import type { LabelSelector } from './label-selector.ts';

/** A raw document's metadata.labels, string values only (a bad one fails the converter later anyway). */
function labelsOf(raw: unknown): Record<string, string> {
  const labels = (raw as { metadata?: { labels?: unknown } } | null)?.metadata?.labels;
  if (!labels || typeof labels !== 'object') return {};
  return Object.fromEntries(Object.entries(labels).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

export interface ManifestSourceOptions {
  dir: string;
  store: ObjectStore;
  log: Logger;
  /** Quiet time after a file event before rescanning; editors write in several steps. */
  debounceMs?: number;
  /** Full rescan period: fs.watch misses events on some filesystems (NFS, some overlays, bind mounts). */
  rescanMs?: number;
  /** false where fs.watch does not work at all: only the periodic rescan then follows changes. */
  watch?: boolean;
  /** Only these kinds are converted and kept (default: all); others are skipped like kinds netlet does not use. */
  kinds?: readonly Kind[];
  /** Kinds kept in their lean form (convert/lean.ts): for consumers that read only names and addresses. */
  lean?: readonly LeanKind[];
  /** Per kind, only documents whose metadata.labels it selects are kept (the labelSelector an API LIST would carry). */
  selectors?: Partial<Record<Kind, LabelSelector>>;
  /** A larger file is refused unread (manifest-files.ts MAX_MANIFEST_FILE_BYTES; tests lower it). */
  maxFileBytes?: number;
  /** A YAML file of more lexer tokens is refused unparsed (manifest-files.ts MAX_YAML_TOKENS; tests lower it). */
  maxYamlTokens?: number;
}

/** What one file contributed at its last successful parse. */
interface FileState extends FileDefinitions {
  hash: string;
  /** inode, size, mtime and ctime when last read: an unchanged file is not read again by a rescan. */
  stamp: string;
}

const NO_OBJECTS: Definition[] = [];
const KNOWN_KINDS = new Set<string>(ALL_KINDS);

export class ManifestSource {
  readonly #dir: string;
  readonly #store: ObjectStore;
  readonly #log: Logger;
  readonly #debounceMs: number;
  readonly #rescanMs: number;
  readonly #files = new Map<string, FileState>();
  /**
   * The files' object lists as of the last apply: their keys are what this
   * source put in the store, and only those are ever removed. Derived from
   * the lists rather than kept as a set of keys, which costs an entry per
   * object (docs/design/dns-memory.md#manifest-definitions).
   */
  #applied: ReadonlyArray<readonly Definition[]> = [];
  readonly #converters: ReadonlyMap<Kind, (raw: unknown) => AnyObject>;
  readonly #lean: ReadonlySet<Kind>;
  readonly #watchEnabled: boolean;
  readonly #kinds: ReadonlySet<Kind>;
  readonly #selectors: Partial<Record<Kind, LabelSelector>>;
  /** One plain (non-recursive) watcher per folder; see #syncWatchers for why not `recursive`. */
  readonly #watchers = new Map<string, FSWatcher>();
  #debounce: NodeJS.Timeout | undefined;
  #rescan: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #scans = 0;
  #lastError = '';
  /** A file's objects changed since the last apply. */
  #dirty = true;
  /** Files whose last read or parse failed (their previous objects are still served). */
  #filesRead = 0;
  readonly #broken = new Map<string, 'read' | 'syntax' | 'size'>();
  readonly #maxFileBytes: number;
  readonly #maxYamlTokens: number;
  #invalidDocuments = 0;
  /** Duplicate definitions already warned about, so a rescan does not repeat them. */
  #duplicates = new Set<string>();

  constructor(options: ManifestSourceOptions) {
    if (!options.dir) throw new ConfigError('manifests', 'a folder is required');
    this.#dir = options.dir;
    this.#store = options.store;
    this.#log = options.log;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#rescanMs = options.rescanMs ?? 5000;
    this.#watchEnabled = options.watch ?? true;
    this.#kinds = new Set(options.kinds ?? ALL_KINDS);
    this.#selectors = options.selectors ?? {};
    this.#lean = new Set(options.lean ?? []);
    this.#maxFileBytes = options.maxFileBytes ?? MAX_MANIFEST_FILE_BYTES;
    this.#maxYamlTokens = options.maxYamlTokens ?? MAX_YAML_TOKENS;
    this.#converters = new Map(ALL_KINDS.map((k) => [k, converterFor(k, options.lean)]));
  }

  /** Loads the folder once (all kinds are then synced) and starts following it. */
  async start(): Promise<void> {
    const s = await stat(this.#dir).catch((err: NodeJS.ErrnoException) => {
      throw new ConfigError('manifests', `cannot read folder ${this.#dir}: ${err.code ?? err.message}`);
    });
    if (!s.isDirectory()) throw new ConfigError('manifests', `${this.#dir} is not a folder`);
    this.#stopped = false;
    await this.rescan();
    for (const kind of ALL_KINDS) this.#store.markSynced(kind);
    this.#rescan = setInterval(() => void this.rescan(), this.#rescanMs);
    this.#rescan.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#syncWatchers([]);
    clearTimeout(this.#debounce);
    clearInterval(this.#rescan);
    await this.#scanning;
  }

  /** Completed scans; lets callers (and tests) know a reload has happened. */
  get scans(): number {
    return this.#scans;
  }

  /** Files read since start; a rescan of an unchanged folder reads none. */
  get filesRead(): number {
    return this.#filesRead;
  }

  /** Documents skipped as invalid since start (unknown kinds are not counted). */
  get invalidDocuments(): number {
    return this.#invalidDocuments;
  }

  /** Files currently kept at their previous content because they cannot be read or parsed. */
  get brokenFiles(): number {
    return this.#broken.size;
  }

  /** The last folder-level problem (e.g. the folder vanished), '' when none. */
  get lastError(): string {
    return this.#lastError;
  }

  /** Reads the folder now. Concurrent calls share one scan, plus one more if asked during it. */
  rescan(): Promise<void> {
    if (this.#scanning) {
      this.#again = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      try {
        do {
          this.#again = false;
          await this.#scanOnce();
        } while (this.#again && !this.#stopped);
      } finally {
        this.#scanning = undefined;
      }
    })();
    return this.#scanning;
  }

  /**
   * Node's `recursive: true` watcher on Linux watches files one by one and
   * loses a file once an editor has renamed a new version over it (its later
   * removal goes unseen; seen with Node 24). A plain inotify watcher per folder
   * reports every entry change in that folder, so the folder list from each
   * scan decides what is watched.
   */
  #syncWatchers(dirs: readonly string[]): void {
    const want = new Set(this.#stopped || !this.#watchEnabled ? [] : dirs);
    for (const [dir, w] of this.#watchers) {
      if (want.has(dir)) continue;
      w.close();
      this.#watchers.delete(dir);
    }
    for (const dir of want) {
      if (this.#watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.#changed());
        w.on('error', () => {
          // Typically the folder was removed; the next scan sees that and re-watches what exists.
          w.close();
          this.#watchers.delete(dir);
          this.#changed();
        });
        this.#watchers.set(dir, w);
      } catch (err) {
        this.#log.debug({ err, dir }, 'cannot watch folder; the periodic rescan covers it');
      }
    }
  }

  #changed(): void {
    if (this.#stopped) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.rescan(), this.#debounceMs);
  }

  async #scanOnce(): Promise<void> {
    let files: string[];
    try {
      const listed = await listManifestFiles(this.#dir);
      files = listed.files;
      this.#syncWatchers(listed.dirs);
    } catch (err) {
      // The folder itself is gone or unreadable: keep serving what we have.
      const msg = `cannot list ${this.#dir}: ${(err as Error).message}`;
      if (msg !== this.#lastError) this.#log.error({ dir: this.#dir }, msg);
      this.#lastError = msg;
      return;
    }
    this.#lastError = '';
    const present = new Set(files);
    for (const file of [...this.#files.keys()]) {
      if (!present.has(file)) this.#forget(file);
    }
    for (const file of files) await this.#readFile(file);
    if (this.#stopped) return;
    if (this.#dirty) this.#apply();
    this.#dirty = false;
    this.#scans++;
  }

  /** Re-parses a file whose content changed; on any error its previous objects stay. */
  async #readFile(file: string): Promise<void> {
    const name = this.#name(file);
    // Only a file whose stamp changed is read and hashed again: doing it for
    // every file each rescan shows in the DNS p99 (docs/design/dns-memory.md#manifest-folder-rescans).
    // Any write moves ctime (nanoseconds), and a ConfigMap-style symlink swap
    // changes the inode, so a matching stamp means unchanged.
    const stat0 = await stat(file).catch(() => undefined);
    const stamp = stat0 ? `${stat0.ino}:${stat0.size}:${stat0.mtimeMs}:${stat0.ctimeMs}` : '';
    const known = this.#files.get(file);
    if (stamp && known?.stamp === stamp && this.#broken.get(file) !== 'read') return;
    let text: string;
    try {
      this.#filesRead++;
      text = await readManifestFile(file, name, this.#maxFileBytes);
    } catch (err) {
      if (err instanceof ManifestTooLargeError) {
        // Reported once per version of the file (its stamp), like a syntax error.
        if (this.#broken.get(file) !== 'size' || known?.stamp !== stamp) this.#log.error({ file: name, bytes: err.size, limit: this.#maxFileBytes }, `${err.message}; keeping the objects it defined before`);
        this.#files.set(file, { hash: '', stamp, objects: known?.objects ?? NO_OBJECTS, documents: known?.documents ?? [] });
        this.#broken.set(file, 'size');
        return;
      }
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') this.#forget(file); // removed between listing and reading
      else if (!this.#broken.has(file)) this.#log.error({ file: name, code }, `cannot read manifest file; keeping its objects: ${(err as Error).message}`);
      if (code !== 'ENOENT') this.#broken.set(file, 'read');
      return;
    }
    if (this.#broken.get(file) === 'read') this.#broken.delete(file);
    const hash = createHash('sha256').update(text).digest('base64url');
    const before = this.#files.get(file);
    if (before?.hash === hash) {
      before.stamp = stamp;
      return;
    }

    let docs;
    try {
      docs = parseManifests(name, text, this.#maxYamlTokens);
    } catch (err) {
      if (!(err instanceof ManifestSyntaxError)) throw err;
      this.#log.error({ file: name, line: err.line }, `${err.message}; keeping the objects it defined before`);
      // Remember the hash so an unchanged broken file is not reported on every rescan.
      this.#files.set(file, { hash, stamp, objects: before?.objects ?? NO_OBJECTS, documents: before?.documents ?? [] });
      this.#broken.set(file, 'syntax');
      return;
    }
    this.#broken.delete(file);

    const objects: Definition[] = [];
    const documents: number[] = [];
    const earlier = before ? byKindAndKey(before.objects) : undefined;
    for (const { document, item, raw } of docs) {
      const where = { file: name, document, ...(item !== undefined && { item }) };
      const r = raw as { apiVersion?: unknown; kind?: unknown } | null;
      if (typeof r !== 'object' || r === null || Array.isArray(r)) {
        this.#log.warn(where, 'manifest document is not an object; skipped');
        this.#invalidDocuments++;
        continue;
      }
      const kind = kindOf(r.apiVersion, r.kind);
      if (!kind) {
        if (typeof r.kind === 'string' && KNOWN_KINDS.has(r.kind)) {
          this.#log.warn(
            { ...where, apiVersion: r.apiVersion, kind: r.kind },
            `unsupported apiVersion for ${r.kind} (netlet reads ${API_VERSIONS[r.kind as Kind]}); skipped`,
          );
          this.#invalidDocuments++;
        } else {
          this.#log.debug({ ...where, apiVersion: r.apiVersion, kind: r.kind }, 'kind not used by netlet; skipped');
        }
        continue;
      }
      if (!this.#kinds.has(kind)) continue;
      const selector = this.#selectors[kind];
      if (selector && !selects(selector, labelsOf(raw))) continue;
      try {
        const obj = this.#convert(kind, raw);
        // An object the edit left as it was stays the very object the store
        // holds (the store would keep its earlier copy anyway, and the file
        // then held a second one). A lean object carries no content hash
        // (see #convert): its content is compared.
        const prev = earlier?.get(`${kind} ${objectKey(obj.meta)}`);
        objects.push(prev !== undefined && sameDefinition(prev, obj, this.#lean.has(kind), this.#store) ? prev : obj);
        documents.push(document);
      } catch (err) {
        if (err instanceof InvalidObjectError) {
          this.#log.warn({ ...where, kind, object: err.ref, field: err.field }, `invalid manifest skipped: ${err.message}`);
        } else {
          // Not a converter's error: the document itself defeats the copy in
          // #convert (nesting too deep for JSON.stringify). Still only this document.
          this.#log.warn({ ...where, kind }, `manifest document cannot be read; skipped: ${(err as Error).message}`);
        }
        this.#invalidDocuments++;
      }
    }
    this.#files.set(file, { hash, stamp, objects, documents });
    this.#dirty = true;
  }

  #forget(file: string): void {
    this.#broken.delete(file);
    if (this.#files.delete(file)) this.#dirty = true;
  }

  /**
   * Converts and gives the object a resourceVersion that is a hash of its
   * content, so a reload of an unchanged object emits nothing and any edit
   * emits an update. A resourceVersion written in the file (copied from
   * `kubectl get -o yaml`) is only part of that content: trusting it would
   * hide edits made without bumping it. A missing uid is derived from the
   * kind and key, so it stays the same across edits.
   *
   * A lean object gets neither (convert/lean.ts): #readFile keeps the
   * earlier equal object instead, which the store takes as no change.
   */
  #convert(kind: Kind, raw: unknown): AnyObject {
    const json = JSON.stringify(raw);
    // Converted from a JSON copy, as objects from the API are: a YAML string
    // kept in the store would keep the whole file's text alive (docs/design/dns-memory.md#manifest-definitions).
    const obj = this.#converters.get(kind)!(JSON.parse(json));
    if (this.#lean.has(kind)) return obj;
    obj.meta.resourceVersion = flatString('m', createHash('sha256').update(json).digest('base64url').slice(0, 22));
    if (!obj.meta.uid) obj.meta.uid = uidFor(kind, objectKey(obj.meta));
    return obj;
  }

  /** Makes the store hold exactly what the files define now. */
  #apply(): void {
    const files = [...this.#files].map(([file, state]) => [this.#name(file), state] as const);
    const done = applyDefinitions({ store: this.#store, log: this.#log, files, applied: this.#applied, warned: this.#duplicates });
    this.#duplicates = done.duplicates;
    this.#applied = done.applied;
  }

  #name(file: string): string {
    return relative(this.#dir, file) || file;
  }
}

/** A file's objects by "kind key", to find the earlier version of each. */
function byKindAndKey(objects: readonly Definition[]): Map<string, Definition> {
  const out = new Map<string, Definition>();
  for (const obj of objects) out.set(`${kindOfDefinition(obj)} ${keyOfDefinition(obj)}`, obj);
  return out;
}

/** `obj` as converted now defines what `prev` did: a lean one by content, a full one by its content hash. */
function sameDefinition(prev: Definition, obj: AnyObject, lean: boolean, store: ObjectStore): boolean {
  // A bare key is a pod the store holds as this file defined it.
  if (typeof prev === 'string') return isPackablePod(obj) && store.holdsPackedPod(prev, packPod(obj));
  if (prev instanceof PackedPodDefinition) return isPackablePod(obj) && samePacked(prev.ips, packPod(obj));
  return lean ? sameLeanObject(prev, obj) : prev.meta.resourceVersion === obj.meta.resourceVersion;
}

/** A stable RFC 4122-shaped id from kind and key (the API would assign a random one). */
function uidFor(kind: Kind, key: string): string {
  const h = createHash('sha256').update(`${kind}/${key}`).digest('hex');
  return flatString(h.slice(0, 8), '-', h.slice(8, 12), '-5', h.slice(13, 16), '-', ((parseInt(h[16], 16) & 3) | 8).toString(16), h.slice(17, 20), '-', h.slice(20, 32));
}
