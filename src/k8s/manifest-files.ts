// Reading one manifest file into raw API objects: several YAML documents per
// file, `kind: List` (and typed lists such as ServiceList from a raw API
// dump), JSON arrays. Pure parsing; which objects netlet keeps is decided by
// the caller (src/k8s/manifests.ts).

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** One raw object found in a file, with where it came from. */
export interface RawDocument {
  /** 0-based index of the YAML document (or JSON top-level value) in the file. */
  document: number;
  /** Index inside a List or array, when the object was an item of one. */
  item?: number;
  raw: unknown;
}

export class ManifestSyntaxError extends Error {
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, message: string, line?: number) {
    super(`${file}${line ? `:${line}` : ''}: ${message}`);
    this.file = file;
    this.line = line;
  }
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

export const isManifestFile = (name: string): boolean => EXTENSIONS.some((e) => name.endsWith(e));

/**
 * Every manifest file under `dir`, sorted so that "last one wins" is
 * deterministic, and the folders they were found in (`dir` included), which
 * the caller watches. Names starting with '.' are skipped: editors' swap and
 * temp files, and the `..data`/`..2024_…` folders of a ConfigMap volume,
 * whose visible files are symlinks into them (reading both would define
 * every object twice).
 */
export async function listManifestFiles(dir: string): Promise<{ files: string[]; dirs: string[] }> {
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    dirs.push(d);
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const path = join(d, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const s = await stat(path).catch(() => undefined); // a dangling link is not a manifest
        isDir = !!s?.isDirectory();
        isFile = !!s?.isFile();
      }
      // Depth bound: a symlink loop must not hang the agent.
      if (isDir && depth < 16) await walk(path, depth + 1).catch(() => undefined); // vanished meanwhile
      else if (isFile && isManifestFile(e.name)) files.push(path);
    }
  };
  await walk(dir, 0);
  return { files: files.sort(), dirs };
}

/**
 * Parses a file's text. A syntax error anywhere throws ManifestSyntaxError:
 * the caller then keeps what it had from this file (a half-edited file must
 * not delete the objects it defined).
 */
export function parseManifests(file: string, text: string): RawDocument[] {
  const values: unknown[] = [];
  if (file.endsWith('.json')) {
    try {
      values.push(JSON.parse(text));
    } catch (err) {
      throw new ManifestSyntaxError(file, `invalid JSON: ${(err as Error).message}`);
    }
  } else {
    // Kubernetes' YAML reader accepts merge keys (<<); so do we.
    const docs = parseAllDocuments(text, { merge: true, prettyErrors: false });
    if (!Array.isArray(docs)) return []; // an empty stream
    for (const doc of docs) {
      const err = doc.errors[0];
      if (err) throw new ManifestSyntaxError(file, `invalid YAML: ${err.message.split('\n')[0]}`, lineOf(text, err.pos[0]));
      values.push(doc.toJS({ maxAliasCount: 1000 }));
    }
  }
  const out: RawDocument[] = [];
  values.forEach((value, document) => {
    if (value === null || value === undefined) return; // an empty document, e.g. after a trailing '---'
    const items = listItems(value);
    if (items) items.forEach((raw, item) => out.push({ document, item, raw }));
    else out.push({ document, raw: value });
  });
  return out;
}

/** 1-based line of a character offset. */
function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * The items of a JSON array, a `kind: List`, or a typed list such as
 * `ServiceList` (whose items carry no kind of their own: it is filled in
 * from the list's). Undefined when `value` is a single object.
 */
function listItems(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.kind !== 'string' || !v.kind.endsWith('List') || !Array.isArray(v.items)) return undefined;
  if (v.kind === 'List') return v.items;
  const itemKind = v.kind.slice(0, -'List'.length);
  return v.items.map((item) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
    const i = item as Record<string, unknown>;
    return i.kind === undefined ? { apiVersion: v.apiVersion, kind: itemKind, ...i } : i;
  });
}
