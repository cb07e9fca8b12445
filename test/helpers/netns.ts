// Throwaway network namespaces for integration tests. Every test
// makes its own namespaces under a unique prefix and removes them in teardown,
// also when it fails, so the host's own rules and routes are never touched.
// Tests use the command-line tools here only to build and observe the
// topology; netlet itself programs the kernel through netlink/iptables-restore.

import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { leaseFileFor } from '../../src/agent/writer-lease.ts';

const execFileP = promisify(execFile);

export const isRoot = (): boolean => process.getuid?.() === 0;

/** For `t.test(name, { skip: rootSkip() }, …)`: a clear reason when not root. */
export function rootSkip(): string | false {
  return isRoot() ? false : 'needs root for network namespaces (run as root, as CI does)';
}

export async function sh(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): Promise<string> {
  try {
    const child = execFileP(cmd, args, { maxBuffer: 64 << 20 });
    if (opts.input !== undefined) {
      child.child.stdin?.end(opts.input);
    }
    const { stdout } = await child;
    return stdout;
  } catch (err) {
    if (opts.allowFail) return '';
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** A namespace made by a Lab; `exec` runs a command inside it. */
export class Netns {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  exec(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): Promise<string> {
    return sh('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  ip(...args: string[]): Promise<string> {
    return sh('ip', ['-n', this.name, ...args]);
  }

  /** A long-running process inside the namespace (an agent, a server); killed by the Lab's teardown. */
  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: 'pipe', ...opts });
  }
}

/**
 * A set of namespaces and processes with one unique prefix. `await
 * lab.cleanup()` in `t.teardown` removes them all. Names stay short: interface
 * names are limited to 15 characters.
 */
export class Lab {
  readonly prefix: string;
  readonly #namespaces: Netns[] = [];
  readonly #children: ChildProcess[] = [];
  #vethCount = 0;

  /** `tag`: 2-4 letters naming the suite, e.g. 'px' for the proxier. */
  constructor(tag: string) {
    this.prefix = `nl${tag}${randomBytes(2).toString('hex')}`;
  }

  async netns(name: string): Promise<Netns> {
    const ns = new Netns(`${this.prefix}-${name}`);
    await sh('ip', ['netns', 'add', ns.name]);
    this.#namespaces.push(ns);
    await ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  /**
   * A veth pair between two namespaces, with optional addresses (CIDR) on
   * each end, both ends up. Returns the interface names.
   */
  async link(a: Netns, b: Netns, addrA?: string, addrB?: string): Promise<[string, string]> {
    const n = this.#vethCount++;
    const tagA = `v${n}a${randomBytes(2).toString('hex')}`;
    const tagB = `v${n}b${randomBytes(2).toString('hex')}`;
    await sh('ip', ['link', 'add', tagA, 'netns', a.name, 'type', 'veth', 'peer', 'name', tagB, 'netns', b.name]);
    if (addrA) await a.ip('addr', 'add', addrA, 'dev', tagA);
    if (addrB) await b.ip('addr', 'add', addrB, 'dev', tagB);
    await a.ip('link', 'set', tagA, 'up');
    await b.ip('link', 'set', tagB, 'up');
    return [tagA, tagB];
  }

  /** Tracks a process so teardown kills it. */
  track(child: ChildProcess): ChildProcess {
    this.#children.push(child);
    return child;
  }

  async cleanup(): Promise<void> {
    for (const c of this.#children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    for (const ns of this.#namespaces.reverse()) {
      // Killing leftovers first: a namespace with live processes stays alive after `ip netns del`.
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns.name], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
      } catch {
        // namespace already gone
      }
      // An agent run in the namespace left its writer lease file (agent/writer-lease.ts), named after the namespace's inode.
      const ino = statSync(join('/run/netns', ns.name), { throwIfNoEntry: false })?.ino;
      await sh('ip', ['netns', 'del', ns.name], { allowFail: true });
      if (ino) for (const f of [leaseFileFor(ino), `${leaseFileFor(ino)}-journal`]) rmSync(f, { force: true });
    }
  }
}

/** Waits until `probe` returns a truthy value or the time runs out. */
export async function eventually<T>(probe: () => Promise<T> | T, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
