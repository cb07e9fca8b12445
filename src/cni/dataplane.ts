// The seam between ADD/CHECK and the two wiring modes (bridge-mode.ts,
// routed-mode.ts): both get the same context and return their share of the
// result.
import type { Rtnl, LinkInfo } from '../netlink/index.ts';
import type { AllocatedAddress } from '../ipam/types.ts';
import type { NetConf } from './config.ts';
import type { ResultInterface, ResultIp, ResultRoute } from './result.ts';

export interface AttachContext {
  conf: NetConf;
  /** Socket in the plugin's own (the node's) namespace. */
  host: Rtnl;
  /** Socket in the pod's namespace. */
  pod: Rtnl;
  netnsPath: string;
  hostVeth: LinkInfo;
  podIf: LinkInfo;
  allocs: AllocatedAddress[];
  /** The alias to write on the host veth (ADD only; see attachment.ts). */
  alias?: string;
}

export interface Wiring {
  /** Host-side interfaces that come before the host veth in the result (the bridge). */
  hostInterfaces: ResultInterface[];
  ips: Array<Omit<ResultIp, 'interface'>>;
  routes: ResultRoute[];
}

export interface Mode {
  attach(ctx: AttachContext): Promise<Wiring>;
  /** Throws CniError(checkFailed) naming the first difference from what attach left. */
  check(ctx: AttachContext): Promise<void>;
}

export const prefixOf = (cidr: string): number => Number(cidr.split('/')[1]);
export const ipOf = (cidr: string): string => cidr.split('/')[0];
export const defaultDst = (a: AllocatedAddress): string => (a.family === 4 ? '0.0.0.0/0' : '::/0');
