// Entry point of the IPAM room: builds the node's Ipam from the `ipam`
// section of a CNI network config (see config.ts for the format).

import type { Logger } from '../base/log.ts';
import type { ClusterConnection } from '../k8s/connection.ts';
import { Allocator } from './allocator.ts';
import type { BlockClaims } from './claims.ts';
import { LocalFileClaims } from './claims-local.ts';
import { PodCidrClaims } from './claims-podcidr.ts';
import { parseIpamConfig } from './config.ts';
import type { IpamConfig } from './config.ts';
import { LocalStore } from './local-store.ts';
import { NodeIpam, quietLog } from './node-ipam.ts';

export type { Ipam, AllocatedAddress, AllocationOwner, AttachmentId } from './types.ts';
export { IpamExhaustedError } from './allocator.ts';
export { LockTimeoutError } from './lock.ts';
export { IpamStateError, DEFAULT_DATA_DIR } from './local-store.ts';
export { parseIpamConfig } from './config.ts';
export type { IpamConfig } from './config.ts';
export { NodeIpam } from './node-ipam.ts';

export interface CreateIpamOptions {
  /** Default node name (the config's nodeName wins). */
  nodeName: string;
  log?: Logger;
  /** Default data directory (the config's dataDir wins); /var/lib/netlet/ipam when neither is given. */
  dataDir?: string;
  /**
   * The API connection of the process that hosts the IPAM (the agent's CNI
   * server: the agent's own identity). The config's `kubeconfig` wins; with
   * neither, the default chain ($KUBECONFIG, in-cluster, ~/.kube/config).
   */
  connection?: ClusterConnection;
}

/**
 * Builds the node's Ipam. Throws ConfigError naming the key for a bad `ipam`
 * section (the plugin maps it to CNI code 7). Does no I/O in local mode; the
 * Kubernetes datastore connects lazily, on the first ADD that needs a block.
 */
export async function createIpam(ipamConf: unknown, opts: CreateIpamOptions): Promise<NodeIpam> {
  const cfg = parseIpamConfig(ipamConf, { nodeName: opts.nodeName, dataDir: opts.dataDir });
  const log = opts.log ?? quietLog;
  const claims = await createClaims(cfg, opts.connection);
  const store = new LocalStore(cfg.dataDir, cfg.nodeName, cfg.lockTimeoutMs);
  return new NodeIpam(store, new Allocator(cfg.pools, claims), log);
}

async function createClaims(cfg: IpamConfig, connection: ClusterConnection | undefined): Promise<BlockClaims> {
  if (cfg.mode === 'podCIDR') {
    if (cfg.podCIDRs.length > 0) {
      const given = cfg.podCIDRs;
      return new PodCidrClaims(async () => given);
    }
    const { kubernetesPodCidrSource } = await import('./claims-kubernetes.ts');
    return new PodCidrClaims(kubernetesPodCidrSource(cfg, connection));
  }
  if (cfg.datastore === 'kubernetes') {
    const { KubernetesClaims } = await import('./claims-kubernetes.ts');
    return KubernetesClaims.fromConfig(cfg, connection);
  }
  return new LocalFileClaims(cfg.blocksFile, cfg.nodeName, cfg.lockTimeoutMs);
}
