// Shared by the manifest-source tests: a temp folder, a logger that records
// its lines, and a started source that is stopped in teardown.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { ManifestSource } from '../../../src/k8s/manifests.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import type { StoreChange } from '../../../src/k8s/store.ts';
import type { LeanKind } from '../../../src/k8s/convert/index.ts';

export const FIXTURE = new URL('../../fixtures/manifests/basic/', import.meta.url).pathname;

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export function memoryLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

/** pino's numeric levels. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export interface Harness {
  dir: string;
  store: ObjectStore;
  source: ManifestSource;
  lines: LogLine[];
  changes: StoreChange[];
}

interface TestLike {
  teardown(fn: () => unknown): void;
}

export async function harness(
  t: TestLike,
  opts: {
    fixture?: boolean; debounceMs?: number; rescanMs?: number; watch?: boolean; start?: boolean; lean?: LeanKind[];
    maxFileBytes?: number; maxYamlTokens?: number;
  } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-mf-'));
  if (opts.fixture) await cp(FIXTURE, dir, { recursive: true });
  const store = new ObjectStore();
  const changes: StoreChange[] = [];
  store.subscribe((c) => changes.push(c));
  const { log, lines } = memoryLogger();
  const source = new ManifestSource({ dir, store, log, debounceMs: opts.debounceMs ?? 30, rescanMs: opts.rescanMs ?? 60_000, watch: opts.watch, lean: opts.lean, maxFileBytes: opts.maxFileBytes, maxYamlTokens: opts.maxYamlTokens });
  t.teardown(async () => {
    await source.stop();
    await rm(dir, { recursive: true, force: true });
  });
  if (opts.start !== false) await source.start();
  return { dir, store, source, lines, changes };
}

export const keys = (store: ObjectStore, kind: Parameters<ObjectStore['list']>[0]): string[] =>
  [...store.list(kind)].map((o) => (o.meta.namespace ? `${o.meta.namespace}/${o.meta.name}` : o.meta.name)).sort();
