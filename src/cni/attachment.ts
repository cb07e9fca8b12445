// What ADD, CHECK and DEL share about one attachment (a container's
// interface): the host-side veth's name, its alias tag, the IPAM owner.
import { createHash } from 'node:crypto';
import type { CniEnv } from './env.ts';
import type { AllocationOwner, AttachmentId } from '../ipam/types.ts';

/** Host-side veth names start with this (Calico uses "cali"). */
export const HOST_VETH_PREFIX = 'nlt';

/**
 * The host-side veth name: a hash of the attachment, so DEL and GC find it
 * again without any saved state, even when the pod's netns is gone.
 * 3 + 12 characters fit IFNAMSIZ (15).
 */
export function hostVethName(id: AttachmentId): string {
  return HOST_VETH_PREFIX + createHash('sha256').update(`${id.containerID}/${id.ifname}`).digest('hex').slice(0, 12);
}

/**
 * The alias written on the host-side veth (IFLA_IFALIAS, `ip link` shows it):
 * which network and attachment it belongs to, so GC of one network never
 * touches another network's pods, and operators can see whose veth it is.
 */
export const aliasPrefix = (network: string): string => `netlet:${network}:`;
export const hostVethAlias = (network: string, id: AttachmentId): string => `${aliasPrefix(network)}${id.containerID}:${id.ifname}`;

export function ownerOf(env: CniEnv): AllocationOwner {
  return {
    containerID: env.containerID,
    ifname: env.ifname,
    podNamespace: env.args.K8S_POD_NAMESPACE ?? '',
    podName: env.args.K8S_POD_NAME ?? '',
  };
}

export const attachmentOf = (env: CniEnv): AttachmentId => ({ containerID: env.containerID, ifname: env.ifname });

/** Side effects to undo, newest first, if a later step of ADD fails. */
export class UndoStack {
  readonly #steps: Array<() => Promise<unknown>> = [];

  push(step: () => Promise<unknown>): void {
    this.#steps.push(step);
  }

  /** Runs every step even when some fail; the original error is what the caller reports. */
  async run(): Promise<void> {
    while (this.#steps.length) {
      const step = this.#steps.pop()!;
      try {
        await step();
      } catch (err) {
        process.stderr.write(`netlet-cni: undo step failed: ${(err as Error).message}\n`);
      }
    }
  }
}
