// Two agents on one node overlap during a restart (a DaemonSet with maxSurge
// starts the new pod before it stops the old one, deploy/30-daemonset.yaml),
// and both would program the same tables: each full sync would undo the
// other's. So kernel state has one writer at a time: the agent that holds
// this lease. The old agent drops it on SIGTERM after its writers have
// stopped, the new one starts its writers once it holds it; DNS, which
// writes nothing, serves beside the old agent meanwhile (SO_REUSEPORT).
//
// The lease is ipam/lock.ts's file lock (fcntl through SQLite): the kernel
// drops it when its holder dies, even by SIGKILL, so a crashed agent never
// blocks the next one. Its file is named after the network namespace: the
// tables belong to a namespace, so two agents of a demo or a test, each in
// its own "node" namespace, do not wait for each other.

import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../base/log.ts';
import { acquireLock, LockTimeoutError } from '../ipam/lock.ts';
import type { Unlock } from '../ipam/lock.ts';

/** Where the lease files live: /run is cleared at boot, as a lease must be; the DaemonSet mounts the host's /run/netlet. */
export const LEASE_DIR = '/run/netlet';

/** How often a waiting agent tries again: a hand-over then takes at most this long after the old agent stops writing. */
const RETRY_MS = 50;

/** The lease file of the network namespace whose inode is `netnsInode`. */
export function leaseFileFor(netnsInode: number, dir = LEASE_DIR): string {
  return join(dir, `writer-netns-${netnsInode}.lock`);
}

/** The lease file of the network namespace this process runs in. */
export async function leaseFile(dir = LEASE_DIR): Promise<string> {
  return leaseFileFor((await stat('/proc/self/ns/net')).ino, dir);
}

/**
 * Takes the lease, waiting while another agent holds it, until `stopped()`
 * says the wait is over (the agent was asked to stop meanwhile): then
 * returns undefined. Otherwise returns the function that drops it.
 */
export async function acquireWriterLease(log: Logger, stopped: () => boolean, dir = LEASE_DIR): Promise<Unlock | undefined> {
  await mkdir(dir, { recursive: true });
  const file = await leaseFile(dir);
  const started = performance.now();
  let logged = false;
  while (!stopped()) {
    try {
      const unlock = await acquireLock(file, 0);
      if (logged) log.info({ lease: file, waitedMs: Math.round(performance.now() - started) }, 'the agent before this one stopped writing; this one writes the kernel state now');
      return unlock;
    } catch (err) {
      if (!(err instanceof LockTimeoutError)) throw err;
    }
    if (!logged) {
      log.info({ lease: file }, 'another netlet agent writes this network namespace\'s kernel state; waiting for it to stop (DNS serves meanwhile)');
      logged = true;
    }
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
  return undefined;
}
