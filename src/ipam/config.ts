// The `ipam` section of a netlet-cni network config. Either its own plugin
// section (`"ipam": {"type": "netlet-ipam", …}`) or embedded; `type` is
// accepted and not interpreted here. Unknown keys are errors that name the key.
//
//   {
//     "type": "netlet-ipam",
//     "mode": "blocks",                 // "blocks" (default) | "podCIDR"
//     "pools": [                        // blocks mode: required, tried in order per family
//       {"cidr": "10.244.0.0/16", "blockSize": 26, "name": "default-v4", "disabled": false},
//       {"cidr": "fd00:10:244::/56"}    // blockSize defaults: 26 (IPv4), 122 (IPv6)
//     ],
//     "datastore": "local",             // where block claims (blocks mode) or the Node (podCIDR mode) live:
//                                       // "local" (a file, standalone/demo/edge) | "kubernetes" (IPAMBlock objects)
//     "blocksFile": "/var/lib/netlet/ipam/blocks.json", // local claims file; share it between nodes on one machine
//     "kubeconfig": "/etc/netlet/kubeconfig",           // datastore kubernetes; "" = the agent's own connection when
//                                       // the agent answers the call (cni.serve), else $KUBECONFIG, in-cluster, ~/.kube/config
//     "podCIDRs": ["10.244.1.0/24"],    // podCIDR mode: the node's podCIDRs; when absent, read from the Node object
//     "dataDir": "/var/lib/netlet/ipam",// where this node's allocations are kept
//     "nodeName": "node-a",             // defaults to the plugin's node name
//     "lockTimeout": "10s"              // how long a run waits for another one holding the lock
//   }
//
// Values in this section win over the defaults the plugin passes (its node
// name and data directory).

import { join } from 'node:path';
import { ConfigError } from '../base/errors.ts';
import { parseDuration } from '../base/config-schema.ts';
import { CidrError, parseCidr } from './cidr.ts';
import { DEFAULT_BLOCK_SIZE, findOverlap } from './pool.ts';
import type { Pool } from './pool.ts';
import { DEFAULT_DATA_DIR } from './local-store.ts';

export interface IpamConfig {
  mode: 'blocks' | 'podCIDR';
  datastore: 'local' | 'kubernetes';
  pools: Pool[];
  podCIDRs: string[];
  dataDir: string;
  blocksFile: string;
  kubeconfig: string;
  nodeName: string;
  lockTimeoutMs: number;
}

const TOP_KEYS = ['type', 'mode', 'pools', 'datastore', 'blocksFile', 'kubeconfig', 'podCIDRs', 'dataDir', 'nodeName', 'lockTimeout'];
const POOL_KEYS = ['cidr', 'blockSize', 'name', 'disabled'];

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknown(obj: Dict, allowed: string[], prefix: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new ConfigError(`${prefix}.${k}`, `unknown key (known: ${allowed.join(', ')})`);
  }
}

function str(obj: Dict, key: string, prefix: string, dflt: string): string {
  const v = obj[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new ConfigError(`${prefix}.${key}`, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(obj: Dict, key: string, prefix: string, allowed: readonly T[], dflt: T): T {
  const v = str(obj, key, prefix, dflt);
  if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(`${prefix}.${key}`, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function parsePool(raw: unknown, key: string): Pool {
  if (!isDict(raw)) throw new ConfigError(key, 'expected a mapping such as {"cidr": "10.244.0.0/16"}');
  rejectUnknown(raw, POOL_KEYS, key);
  if (typeof raw.cidr !== 'string') throw new ConfigError(`${key}.cidr`, 'required: the pool CIDR, e.g. "10.244.0.0/16"');
  let cidr;
  try {
    cidr = parseCidr(raw.cidr);
  } catch (err) {
    if (err instanceof CidrError) throw new ConfigError(`${key}.cidr`, err.message);
    throw err;
  }
  const bits = cidr.family === 4 ? 32 : 128;
  const blockSize = raw.blockSize ?? DEFAULT_BLOCK_SIZE[cidr.family];
  // The largest block a pool may be split into is the pool itself; the smallest must still hold a usable address
  // beside the reserved network, gateway (and IPv4 broadcast) addresses.
  const maxBlockSize = cidr.family === 4 ? 30 : 126;
  if (typeof blockSize !== 'number' || !Number.isInteger(blockSize) || blockSize < cidr.prefix || blockSize > maxBlockSize) {
    throw new ConfigError(
      `${key}.blockSize`,
      `must be a whole prefix length between the pool's /${cidr.prefix} and /${maxBlockSize} (IPv${cidr.family}, ${bits} bits), got ${JSON.stringify(blockSize)}`,
    );
  }
  const name = raw.name === undefined ? raw.cidr : raw.name;
  if (typeof name !== 'string' || !name) throw new ConfigError(`${key}.name`, 'expected a non-empty string');
  if (raw.disabled !== undefined && typeof raw.disabled !== 'boolean') throw new ConfigError(`${key}.disabled`, 'expected true or false');
  return { name, cidr, blockSize, disabled: raw.disabled === true };
}

export function parseIpamConfig(raw: unknown, defaults: { nodeName: string; dataDir?: string }): IpamConfig {
  const P = 'ipam';
  if (!isDict(raw)) throw new ConfigError(P, 'expected a mapping');
  rejectUnknown(raw, TOP_KEYS, P);
  const mode = oneOf(raw, 'mode', P, ['blocks', 'podCIDR'] as const, 'blocks');
  const datastore = oneOf(raw, 'datastore', P, ['local', 'kubernetes'] as const, 'local');

  const pools: Pool[] = [];
  if (raw.pools !== undefined) {
    if (!Array.isArray(raw.pools)) throw new ConfigError(`${P}.pools`, 'expected a list of pools');
    raw.pools.forEach((p, i) => pools.push(parsePool(p, `${P}.pools[${i}]`)));
  }
  if (mode === 'blocks' && pools.length === 0) throw new ConfigError(`${P}.pools`, 'required in blocks mode: at least one pool, e.g. [{"cidr": "10.244.0.0/16"}]');
  if (mode === 'podCIDR' && pools.length > 0) throw new ConfigError(`${P}.pools`, 'not used in podCIDR mode (addresses come from the node\'s podCIDRs)');
  const overlap = findOverlap(pools);
  if (overlap) throw new ConfigError(`${P}.pools`, `pools ${overlap[0].name} and ${overlap[1].name} overlap`);
  const names = new Set<string>();
  for (const p of pools) {
    if (names.has(p.name)) throw new ConfigError(`${P}.pools`, `two pools are named ${p.name}`);
    names.add(p.name);
  }

  const podCIDRs: string[] = [];
  if (raw.podCIDRs !== undefined) {
    if (mode !== 'podCIDR') throw new ConfigError(`${P}.podCIDRs`, 'only used with "mode": "podCIDR"');
    if (!Array.isArray(raw.podCIDRs)) throw new ConfigError(`${P}.podCIDRs`, 'expected a list of CIDRs');
    raw.podCIDRs.forEach((c, i) => {
      const key = `${P}.podCIDRs[${i}]`;
      if (typeof c !== 'string') throw new ConfigError(key, 'expected a CIDR string');
      try {
        parseCidr(c);
      } catch (err) {
        throw new ConfigError(key, (err as Error).message);
      }
      podCIDRs.push(c);
    });
  }

  const dataDir = str(raw, 'dataDir', P, defaults.dataDir || DEFAULT_DATA_DIR);
  if (!dataDir) throw new ConfigError(`${P}.dataDir`, 'must not be empty');
  const nodeName = str(raw, 'nodeName', P, defaults.nodeName);
  if (!nodeName) throw new ConfigError(`${P}.nodeName`, 'no node name: set it here or give the plugin one');
  const blocksFile = str(raw, 'blocksFile', P, join(dataDir, 'blocks.json'));
  if (raw.blocksFile !== undefined && datastore !== 'local') throw new ConfigError(`${P}.blocksFile`, 'only used with "datastore": "local"');
  const kubeconfig = str(raw, 'kubeconfig', P, '');
  if (raw.kubeconfig !== undefined && datastore !== 'kubernetes') throw new ConfigError(`${P}.kubeconfig`, 'only used with "datastore": "kubernetes"');
  if (mode === 'podCIDR' && datastore === 'local' && podCIDRs.length === 0) {
    throw new ConfigError(`${P}.podCIDRs`, 'required in podCIDR mode with the local datastore (or use "datastore": "kubernetes" to read the Node)');
  }
  const lockTimeoutMs = raw.lockTimeout === undefined ? 10_000 : parseDuration(`${P}.lockTimeout`, raw.lockTimeout);
  return { mode, datastore, pools, podCIDRs, dataDir, blocksFile, kubeconfig, nodeName, lockTimeoutMs };
}
