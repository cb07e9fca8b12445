// Block claims in the Kubernetes API: one cluster-scoped IPAMBlock object
// (netlet.io/v1, deploy/crd-ipamblocks.yaml) per claimed block, named after
// its CIDR. Claiming is a create: the API server accepts exactly one create of
// a name and answers 409 AlreadyExists to the others, so two nodes can never
// own one block and no other store or lock is needed between nodes. Releasing
// deletes the object with a uid + resourceVersion precondition, so a block
// that was released and claimed again by another node in between is left alone.

import { existsSync } from 'node:fs';
import { ApiClient, ApiError, resourcePath } from '../k8s/client.ts';
import { describeApiFailure } from '../k8s/api-failure.ts';
import type { ListResult, Query, RawJson } from '../k8s/client.ts';
import { NetletError } from '../base/errors.ts';
import type { ClusterConnection } from '../k8s/connection.ts';
import type { BlockClaims, ClaimedBlock } from './claims.ts';
import type { IpamConfig } from './config.ts';
import { poolBlocks } from './pool.ts';
import type { Pool } from './pool.ts';

export const IPAMBLOCK_API_VERSION = 'netlet.io/v1';
export const IPAMBLOCKS_PATH = resourcePath({ group: 'netlet.io', version: 'v1', resource: 'ipamblocks' });
/** Label with the owner, for `kubectl get ipamblocks -l netlet.io/node=NAME`. */
export const NODE_LABEL = 'netlet.io/node';

/** The object name of a block: its CIDR with '.', ':' and '/' replaced by '-'. */
export function blockObjectName(cidr: string): string {
  return cidr.replace(/[.:/]/g, '-');
}

/** The part of ApiClient the claims use (a fake in unit tests, ApiClient for real). */
export type BlockApi = Pick<ApiClient, 'list' | 'create' | 'delete' | 'get'> & { close?(): Promise<void> };

interface RawBlock {
  metadata: { name: string; uid?: string; resourceVersion?: string };
  spec?: { cidr?: string; node?: string; pool?: string };
}

export class KubernetesClaims implements BlockClaims {
  readonly kind = 'kubernetes';
  readonly fixed = false;
  readonly #node: string;
  readonly #connect: () => Promise<BlockApi>;
  #client: Promise<BlockApi> | undefined;

  /** `connect` is called on first use, so an ADD that finds room in its blocks never connects. */
  constructor(node: string, connect: () => Promise<BlockApi>) {
    this.#node = node;
    this.#connect = connect;
  }

  #api(): Promise<BlockApi> {
    this.#client ??= this.#connect();
    return this.#client;
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) await (await client.catch(() => undefined))?.close?.();
  }

  /** `connection`: the hosting process's own (the agent's); the config's kubeconfig wins over it. */
  static fromConfig(cfg: IpamConfig, connection?: ClusterConnection): KubernetesClaims {
    return new KubernetesClaims(cfg.nodeName, () => connectApi(cfg.kubeconfig, connection));
  }

  async owned(): Promise<ClaimedBlock[]> {
    return (await this.#listAll())
      .filter((b) => b.spec?.node === this.#node && typeof b.spec.cidr === 'string')
      .map((b) => ({ cidr: b.spec!.cidr!, pool: b.spec!.pool ?? '' }));
  }

  async claim(pools: Pool[]): Promise<ClaimedBlock | null> {
    const taken = new Set((await this.#listAll()).map((b) => b.metadata.name));
    for (const pool of pools) {
      for (const cidr of poolBlocks(pool)) {
        const name = blockObjectName(cidr);
        if (taken.has(name)) continue;
        // Another node created it since our list: it is theirs, try the next one.
        if (await this.#create({ cidr, pool: pool.name })) return { cidr, pool: pool.name };
        taken.add(name);
      }
    }
    return null;
  }

  async reclaim(block: ClaimedBlock): Promise<'ours' | 'claimed' | 'taken'> {
    if (await this.#create(block)) return 'claimed';
    let current: RawBlock;
    try {
      current = (await (await this.#api()).get(`${IPAMBLOCKS_PATH}/${blockObjectName(block.cidr)}`)) as RawBlock;
    } catch (err) {
      throw claimError('reclaim', 'get', block.cidr, err);
    }
    return current.spec?.node === this.#node ? 'ours' : 'taken';
  }

  /** Create-if-absent: true when this call created the claim, false when the name exists. */
  async #create(block: ClaimedBlock): Promise<boolean> {
    const api = await this.#api();
    const labels = /^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/i.test(this.#node) ? { [NODE_LABEL]: this.#node } : undefined;
    try {
      await api.create(IPAMBLOCKS_PATH, {
        apiVersion: IPAMBLOCK_API_VERSION,
        kind: 'IPAMBlock',
        metadata: { name: blockObjectName(block.cidr), labels },
        spec: { cidr: block.cidr, node: this.#node, pool: block.pool },
      });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.isAlreadyExists) return false;
      throw claimError('claim', 'create', block.cidr, err);
    }
  }

  async release(block: ClaimedBlock): Promise<boolean> {
    const api = await this.#api();
    const path = `${IPAMBLOCKS_PATH}/${blockObjectName(block.cidr)}`;
    let current: RawBlock;
    try {
      current = (await api.get(path)) as RawBlock;
    } catch (err) {
      if (err instanceof ApiError && err.isNotFound) return false;
      throw claimError('release', 'get', block.cidr, err);
    }
    if (current.spec?.node !== this.#node) return false;
    try {
      await api.delete(path, { uid: current.metadata.uid, resourceVersion: current.metadata.resourceVersion });
      return true;
    } catch (err) {
      // Gone already, or changed since we read it (no longer provably ours): leave it.
      if (err instanceof ApiError && (err.isNotFound || err.status === 409)) return false;
      throw claimError('release', 'delete', block.cidr, err);
    }
  }

  async #listAll(): Promise<RawBlock[]> {
    const api = await this.#api();
    const items: RawBlock[] = [];
    let cont: string | undefined;
    do {
      const query: Query = { limit: 500, continue: cont };
      let page: ListResult<RawJson>;
      try {
        page = await api.list(IPAMBLOCKS_PATH, query);
      } catch (err) {
        throw claimError('list', 'list', '', err);
      }
      items.push(...(page.items as RawBlock[]));
      cont = page.metadata.continue || undefined;
    } while (cont);
    return items;
  }
}

/** `step`: what the claims were doing; `verb`: the API verb that failed (a 403/401 names it, as RBAC rules do). */
function claimError(step: string, verb: string, cidr: string, cause: unknown): NetletError {
  const what = cidr ? ` ${cidr}` : '';
  const why = describeApiFailure(cause, verb, 'ipamblocks.netlet.io');
  const detail = why.kind === 'forbidden' || why.kind === 'unauthorized' ? `${why.headline}: ` : '';
  return new NetletError('ERR_IPAM_CLAIMS', `IPAM block claims: ${step}${what} failed: ${detail}${(cause as Error).message}`, { cause });
}

/**
 * Where netlet-cni finds the agent's identity, written by the agent
 * (agent/publish-identity.ts, its cni.kubeconfig; deploy/ sets this path).
 * $NETLET_AGENT_KUBECONFIG names another one.
 */
export const AGENT_KUBECONFIG = '/run/netlet/kubeconfig';

/**
 * An ApiClient from, in order: the IPAM config's kubeconfig, the hosting
 * process's connection (the agent's, for its CNI server), the identity the
 * agent wrote for the plugin (when the plugin runs without the agent), the
 * default chain. So the plugin claims blocks as the agent does, whether the
 * agent answers the call or not.
 */
async function connectApi(kubeconfig: string, hosting: ClusterConnection | undefined): Promise<ApiClient> {
  const conn = !kubeconfig && hosting ? hosting : await resolveOwnConnection(kubeconfig);
  return ApiClient.fromConnection(conn, { requestTimeoutMs: 10_000 });
}

async function resolveOwnConnection(kubeconfig: string): Promise<ClusterConnection> {
  const { KubeconfigError, loadKubeconfigFile, resolveConnection } = await import('../k8s/kubeconfig.ts');
  if (!kubeconfig) {
    const agents = process.env.NETLET_AGENT_KUBECONFIG || AGENT_KUBECONFIG;
    if (existsSync(agents)) return loadKubeconfigFile(agents);
  }
  try {
    return await resolveConnection({ kubeconfig });
  } catch (err) {
    // The default chain's message speaks to a command line (--kubeconfig, --manifests); the plugin has none.
    if (!(err instanceof KubeconfigError) || err.code !== 'ERR_KUBECONFIG_NOT_FOUND') throw err;
    throw new KubeconfigError(
      'NOT_FOUND',
      'IPAM datastore "kubernetes" has no API server config: set "kubeconfig" in the network config\'s ipam section, ' +
        `or let the agent write its identity (cni.kubeconfig: ${AGENT_KUBECONFIG}) and answer CNI calls (cni.serve)`,
      { cause: err },
    );
  }
}

/** podCIDR mode without podCIDRs in the config: read this node's Node object. */
export function kubernetesPodCidrSource(cfg: IpamConfig, connection?: ClusterConnection): () => Promise<string[]> {
  return async () => {
    let node: RawJson;
    const client = await connectApi(cfg.kubeconfig, connection);
    try {
      node = await client.get(resourcePath({ group: '', version: 'v1', resource: 'nodes', name: cfg.nodeName }));
    } catch (err) {
      throw new NetletError('ERR_IPAM_CLAIMS', `IPAM podCIDR mode: reading Node ${cfg.nodeName} failed: ${(err as Error).message}`, { cause: err });
    } finally {
      await client.close();
    }
    const cidrs: string[] = node?.spec?.podCIDRs ?? (node?.spec?.podCIDR ? [node.spec.podCIDR] : []);
    if (cidrs.length === 0) {
      throw new NetletError('ERR_IPAM_NO_PODCIDR', `Node ${cfg.nodeName} has no spec.podCIDRs (is the controller manager's --allocate-node-cidrs on?)`);
    }
    return cidrs;
  };
}
