// The whole agent (bin/netlet.js agent) started in a namespace of a Lab for
// an integration test: tracked by the lab (killed at its cleanup), its log
// collected, and the log's tail printed as a comment when the test fails.

import type * as Tap from 'tap';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Lab, Netns } from '../../helpers/netns.ts';

export const NETLET = fileURLToPath(new URL('../../../bin/netlet.js', import.meta.url));

export interface AgentOptions {
  /** The agent's environment (default: the test's). */
  env?: NodeJS.ProcessEnv;
  /** Collect stdout into the log too (default: stderr only). */
  stdout?: boolean;
  /** How many characters of the log's end a failing test prints (default 3000). */
  tail?: number;
}

/** `netlet agent ARGS...` in `ns`; `log()` is what it has written so far. */
export function startAgent(t: Tap.Test, lab: Lab, ns: Netns, args: string[], opts: AgentOptions = {}): { child: ChildProcess; log: () => string } {
  const child = lab.track(ns.spawn(process.execPath, [NETLET, 'agent', ...args], opts.env ? { env: opts.env } : {}));
  let log = '';
  child.stderr?.on('data', (d) => (log += d));
  if (opts.stdout) child.stdout?.on('data', (d) => (log += d));
  t.teardown(() => {
    if (!t.passing()) t.comment(log.slice(-(opts.tail ?? 3000)));
  });
  return { child, log: () => log };
}
