// The CNI_* environment (CNI SPEC.md "Parameters").
import { CniCode, CniError } from './errors.ts';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'] as const;
export type CniCommand = (typeof COMMANDS)[number];

export interface CniEnv {
  command: CniCommand;
  containerID: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS as key → value. */
  args: Record<string, string>;
  path: string[];
}

/** Which variables each command needs (SPEC.md: CNI_NETNS is optional for DEL). */
const REQUIRED: Record<CniCommand, Array<'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME'>> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  STATUS: [],
  GC: [],
  VERSION: [],
};

/**
 * "K=V;K2=V2" → {K: V, K2: V2}. Kubernetes runtimes pass K8S_POD_NAMESPACE,
 * K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID and IgnoreUnknown.
 */
export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError(CniCode.invalidEnvironment, `CNI_ARGS: '${pair}' is not KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

// Linux IFNAMSIZ is 16 including the NUL; '/' and whitespace are refused by dev_valid_name().
const IFNAME = /^[^\s/:]{1,15}$/;

export function parseEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = env.CNI_COMMAND ?? '';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new CniError(
      CniCode.invalidEnvironment,
      command ? `CNI_COMMAND: unknown command '${command}'` : 'CNI_COMMAND is not set',
      `one of ${COMMANDS.join(', ')}`,
    );
  }
  const cmd = command as CniCommand;
  for (const key of REQUIRED[cmd]) {
    if (!env[key]) throw new CniError(CniCode.invalidEnvironment, `${key} is required for ${cmd}`);
  }
  const ifname = env.CNI_IFNAME ?? '';
  if (ifname && (!IFNAME.test(ifname) || ifname === '.' || ifname === '..')) {
    throw new CniError(CniCode.invalidEnvironment, `CNI_IFNAME: '${ifname}' is not a valid interface name`);
  }
  return {
    command: cmd,
    containerID: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifname,
    args: parseCniArgs(env.CNI_ARGS ?? ''),
    path: (env.CNI_PATH ?? '').split(':').filter(Boolean),
  };
}
