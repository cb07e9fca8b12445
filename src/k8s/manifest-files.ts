// Reading one manifest file into raw API objects: several YAML documents per
// file, `kind: List` (and typed lists such as ServiceList from a raw API
// dump), JSON arrays. Pure parsing; which objects netlet keeps is decided by
// the caller (src/k8s/manifests.ts).

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Lexer, parseAllDocuments, visit } from 'yaml';
import type { Document } from 'yaml';
import { NetletError } from '../base/errors.ts';
import { FileTooLargeError, readAtMost } from '../base/read-at-most.ts';

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

/**
 * A file larger than the limit is not read at all. Parsing costs far more
 * than the text: a 50 MB YAML file took the agent from 85 MB to 1.97 GB
 * (issue 13), whatever its kinds, so the size is checked before the first
 * byte is read.
 */
export class ManifestTooLargeError extends NetletError {
  readonly file: string;
  readonly size: number;

  constructor(file: string, size: number, limit: number) {
    super('ERR_MANIFEST_TOO_LARGE', `${file}: ${size} bytes is more than the ${limit} a manifest file may have; not read (split it into several files)`);
    this.file = file;
    this.size = size;
  }
}

/**
 * The default per-file limit, checked before reading. A manifest file is a
 * few kilobytes; a JSON dump of a cluster of a few thousand services fits.
 * JSON.parse costs a few times the text; YAML costs far more and is bounded
 * by MAX_YAML_TOKENS as well.
 */
export const MAX_MANIFEST_FILE_BYTES = 4 * 1024 * 1024;

/**
 * The YAML parser builds a tree of about 130 bytes per lexer token for
 * ordinary manifests and up to ~550 for hostile ones (measured with this
 * parser at 4 MiB: 2.2 M tokens of Services took 288 MB more RSS; 1 M empty
 * documents, 2.1 M tokens, 1.1 GB; 2 M flow scalars, 6.3 M tokens, 2.2 GB).
 * 300,000 tokens bound one file at ~160 MB at worst, inside the DaemonSet's
 * 384Mi with the agent's ~85 MB, and hold ~600 KB of ordinary YAML (about
 * 3,000 Services with their slices in one file). Counting them costs a
 * lexer pass over the text, no tree: a larger file is refused before it is
 * parsed. Larger clusters split their files or write JSON.
 */
export const MAX_YAML_TOKENS = 300_000;

/**
 * How many alias expansions a document may make (the yaml package's
 * maxAliasCount: nested aliases times their uses). Manifests use aliases
 * rarely, to share a label map or a port list; an alias bomb ("billion
 * laughs") needs millions. The parser's own default is also 100.
 */
export const MAX_ALIAS_COUNT = 100;

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

/** The file's text when it holds at most `maxBytes` (base/read-at-most.ts); throws ManifestTooLargeError. */
export async function readManifestFile(file: string, name: string, maxBytes: number): Promise<string> {
  try {
    return await readAtMost(file, maxBytes);
  } catch (err) {
    if (err instanceof FileTooLargeError) throw new ManifestTooLargeError(name, err.size, maxBytes);
    throw err;
  }
}

/**
 * Parses a file's text. A syntax error anywhere throws ManifestSyntaxError:
 * the caller then keeps what it had from this file (a half-edited file must
 * not delete the objects it defined). So does any other failure of the
 * parser (an alias bomb, an alias to its own ancestor, nesting too deep for
 * the stack): one hostile file must not stop the process that reads it.
 */
export function parseManifests(file: string, text: string, maxYamlTokens = MAX_YAML_TOKENS): RawDocument[] {
  const values: unknown[] = [];
  if (file.endsWith('.json')) {
    try {
      values.push(JSON.parse(text));
    } catch (err) {
      throw new ManifestSyntaxError(file, `invalid JSON: ${(err as Error).message}`);
    }
  } else {
    let tokens = 0;
    for (const _ of new Lexer().lex(text)) {
      if (++tokens > maxYamlTokens) {
        throw new ManifestSyntaxError(file, `more than ${maxYamlTokens} YAML tokens, more than a manifest file may cost to parse; not read (split it into several files, or write JSON)`);
      }
    }
    // Kubernetes' YAML reader accepts merge keys (<<); so do we.
    const docs = parseAllDocuments(text, { merge: true, prettyErrors: false });
    if (!Array.isArray(docs)) return []; // an empty stream
    for (const doc of docs) {
      const err = doc.errors[0];
      if (err) throw new ManifestSyntaxError(file, `invalid YAML: ${err.message.split('\n')[0]}`, lineOf(text, err.pos[0]));
      if (aliasesAnAncestor(doc)) throw new ManifestSyntaxError(file, 'invalid YAML: an alias refers to a node that contains it (a circular document)');
      try {
        values.push(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
      } catch (err) {
        // ReferenceError for too many aliases ("excessive alias count") or an
        // unresolved one, RangeError for a stack overflow.
        throw new ManifestSyntaxError(file, `invalid YAML: ${(err as Error).message.split('\n')[0]}`);
      }
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

/**
 * An alias inside the node it refers to (`&a [*a]`) makes a circular value,
 * which no JSON (and no API object) can hold. Found by walking the tree
 * once: aliases are not expanded, so a bomb costs no more than its text.
 */
function aliasesAnAncestor(doc: Document.Parsed): boolean {
  let found = false;
  visit(doc, {
    Alias(_key, node, path) {
      const target = node.resolve(doc);
      if (target && path.includes(target)) {
        found = true;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
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
