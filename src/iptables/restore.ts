// Runs iptables-restore / iptables-save. One process per restore, its input
// on stdin (never one `iptables` process per rule), started by posix_spawn
// (src/base/run-tool.ts; docs/design/agent-memory.md#starting-tools-with-posix_spawn).

import { NetletError } from '../base/errors.ts';
import { runTool as run, runToolForBytes as runForBytes, startTool } from '../base/run-tool.ts';
import type { RunningTool } from '../base/run-tool.ts';
import type { IptablesTools } from './tools.ts';

export class IptablesRestoreError extends NetletError {
  readonly line: number;
  readonly context: string;
  /** The text of the line iptables-restore names, '' when it is not among what was kept (backend.ts traces it to its plan). */
  readonly failedLine: string;

  /** `input` is what was written, or its part that starts at line `firstLine` (a stream keeps only its last pieces). */
  constructor(tool: string, stderr: string, input: string, firstLine = 1) {
    // iptables-restore names the failing line: "line 1234 failed" or
    // "Error occurred at line: 1234" (legacy), "line 12: …" (nft).
    const m = /line:? (\d+)/.exec(stderr);
    const line = m ? Number(m[1]) : 0;
    const at = line - firstLine;
    const lines = at >= 0 ? input.split('\n') : [];
    const context = at >= 0 && at < lines.length ? lines.slice(Math.max(0, at - 2), at + 3).join('\n') : '';
    super('ERR_IPTABLES_RESTORE', `${tool} failed: ${stderr.trim() || 'no message'}${context ? `\naround line ${line}:\n${context}` : ''}`);
    this.line = line;
    this.context = context;
    this.failedLine = at >= 0 && at < lines.length ? lines[at] : '';
  }
}

export class IptablesSaveError extends NetletError {
  constructor(tool: string, stderr: string) {
    super('ERR_IPTABLES_SAVE', `${tool} failed: ${stderr.trim() || 'no message'}`);
  }
}

/**
 * `iptables-restore --noflush`: tables and chains not named in `input` are
 * left alone; a chain named with `:CHAIN` is created or flushed. The whole
 * input is one transaction per table. No `--counters`: the input carries no
 * counters worth keeping (user chains always show [0:0], and rewritten rules
 * start from zero anyway; kube-proxy dropped it for that reason, kubernetes#110328).
 */
export async function restore(tools: IptablesTools, input: string): Promise<void> {
  const r = await run(tools.restore, RESTORE_ARGS, input);
  if (r.code !== 0) throw new IptablesRestoreError(tools.restore, r.stderr, input);
}

const RESTORE_ARGS = ['-w', '5', '--noflush'];

/** Pieces a RestoreStream keeps for an error's context. */
const KEPT_PIECES = 4;

/**
 * One `iptables-restore --noflush` whose input is written as it is rendered
 * (a legacy full sync, render-sync.ts), never held whole
 * (docs/design/iptables-sync.md#legacy-full-syncs-are-streamed). Each piece
 * must end with a newline. Only the last pieces are kept, for the error's
 * context: iptables-restore stops reading at the line it fails on, so that
 * line is among the last written.
 */
export class RestoreStream {
  readonly #cmd: string;
  readonly #tool: RunningTool;
  #recent: { firstLine: number; text: string }[] = [];
  #linesWritten = 0;
  #stopped = false;

  constructor(tools: IptablesTools) {
    this.#cmd = tools.restore;
    this.#tool = startTool(tools.restore, RESTORE_ARGS);
  }

  /** Resolves when the tool has room for more (await it before rendering the next piece). */
  async write(piece: string): Promise<void> {
    // Once the tool has stopped reading, the pieces it failed on stay the kept ones.
    if (this.#stopped) return;
    this.#recent.push({ firstLine: this.#linesWritten + 1, text: piece });
    if (this.#recent.length > KEPT_PIECES) this.#recent.shift();
    for (let i = piece.indexOf('\n'); i >= 0; i = piece.indexOf('\n', i + 1)) this.#linesWritten++;
    if (!(await this.#tool.write(piece))) this.#stopped = true;
  }

  /** Closes the input and waits for the restore; throws IptablesRestoreError when it failed. */
  async end(): Promise<void> {
    const r = await this.#tool.end();
    if (r.code === 0) return;
    const first = this.#recent[0]?.firstLine ?? 1;
    throw new IptablesRestoreError(this.#cmd, r.stderr, this.#recent.map((p) => p.text).join(''), first);
  }
}

/** `iptables-save -t TABLE` text. */
export async function save(tools: IptablesTools, table: string): Promise<string> {
  return (await saveBytes(tools, table)).toString('utf8');
}

/**
 * The same as bytes, for parseSave: the nat table, read on every full sync,
 * would be one large string (docs/design/iptables-sync.md#reading-iptables-save-as-bytes).
 */
export async function saveBytes(tools: IptablesTools, table: string): Promise<Buffer> {
  const r = await runForBytes(tools.save, ['-t', table]);
  if (r.code !== 0) throw new IptablesSaveError(tools.save, r.stderr);
  return r.stdout;
}

const NEWLINE = 0x0a;
const COLON = 0x3a;
/** Where a chain line starts: "\n:NAME POLICY [p:b]". */
const CHAIN_LINE = Buffer.from('\n:');

/**
 * The chains `iptables-save -t TABLE` output declares (`:NAME POLICY
 * [p:b]`; those `keepChain` accepts) and the `-A` lines of the given
 * built-in chains. Both search the bytes from one wanted line to the next
 * rather than walk every line (docs/design/iptables-sync.md#reading-iptables-save-as-bytes).
 */
export function parseSave(
  saved: Buffer | string,
  builtins: readonly string[] = [],
  keepChain: (name: string) => boolean = () => true,
): { chains: Set<string>; rules: string[] } {
  const buf = typeof saved === 'string' ? Buffer.from(saved, 'utf8') : saved;
  return { chains: declaredChains(buf, keepChain), rules: builtinRules(buf, builtins) };
}

/** The chains `buf` declares that `keepChain` accepts. */
function declaredChains(buf: Buffer, keepChain: (name: string) => boolean): Set<string> {
  const chains = new Set<string>();
  // iptables-save writes a table's chain lines together: each run of them is
  // decoded as one string and cut there.
  const runAfter = (from: number) => {
    const at = buf.indexOf(CHAIN_LINE, from);
    return at < 0 ? -1 : at + 1;
  };
  for (let at = buf[0] === COLON ? 0 : runAfter(0); at >= 0; ) {
    let end = at;
    while (end < buf.length && buf[end] === COLON) {
      const next = buf.indexOf(NEWLINE, end);
      end = next < 0 ? buf.length : next + 1;
    }
    const run = buf.toString('latin1', at, end);
    for (let line = 0; line < run.length; ) {
      const eol = run.indexOf('\n', line);
      const lineEnd = eol < 0 ? run.length : eol;
      const space = run.indexOf(' ', line);
      const name = run.slice(line + 1, space >= 0 && space < lineEnd ? space : lineEnd);
      if (keepChain(name)) chains.add(name);
      line = lineEnd + 1;
    }
    at = runAfter(end - 1);
  }
  return chains;
}

/** The `-A` lines of the `builtins` chains, in the order iptables-save wrote them. */
function builtinRules(buf: Buffer, builtins: readonly string[]): string[] {
  const found: [at: number, rule: string][] = [];
  for (const chain of builtins) {
    const prefix = Buffer.from(`\n-A ${chain} `);
    const lineAt = (start: number) => {
      const end = buf.indexOf(NEWLINE, start);
      found.push([start, buf.toString('utf8', start, end < 0 ? buf.length : end)]);
    };
    if (buf.subarray(0, prefix.length - 1).equals(prefix.subarray(1))) lineAt(0);
    for (let at = buf.indexOf(prefix); at >= 0; at = buf.indexOf(prefix, at + 1)) lineAt(at + 1);
  }
  found.sort((a, b) => a[0] - b[0]);
  return found.map(([, rule]) => rule);
}

/** Chain names declared in iptables-save output (`:NAME POLICY [p:b]`). */
export function chainsOf(saveText: string): Set<string> {
  return parseSave(saveText).chains;
}

/** The `-A` lines of the given built-in chains. */
export function rulesOf(saveText: string, chains: readonly string[]): string[] {
  return parseSave(saveText, chains).rules;
}

/**
 * Whether our canary chain still exists in `table`. It vanishes when someone
 * deletes the table's chains (a firewall reload, `iptables -X`); then the
 * shared chains' references may point nowhere and a full sync is needed.
 * One `iptables -S CHAIN`: lists a single chain, cheap at any table size.
 * Exit 1 means no such chain; anything else (4: the xtables lock was not
 * had in time) says nothing about the chain and throws, so a busy lock is
 * never taken for a flush (kube-proxy's isResourceError does the same).
 */
export async function chainExists(tools: IptablesTools, table: string, chain: string): Promise<boolean> {
  const cmd = tools.restore.replace(/-restore$/, '');
  const r = await run(cmd, ['-w', '5', '-t', table, '-S', chain], undefined);
  if (r.code === 0) return true;
  if (r.code === 1) return false;
  throw new NetletError('ERR_IPTABLES_CHECK', `${cmd} -t ${table} -S ${chain} failed (exit ${r.code}): ${r.stderr.trim() || 'no message'}`);
}
