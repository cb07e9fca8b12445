// `netlet install-cni`: puts the plugin and its conflist in place.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../base/errors.ts';
import type { Command } from '../command.ts';
import { defaultConflist, installCni } from '../../cni/install.ts';

const HELP = `usage: netlet install-cni [options]

  --bin-dir DIR        where the runtime looks for plugins (default /opt/cni/bin)
  --conf-dir DIR       where the runtime reads network configs (default /etc/cni/net.d)
  --conflist FILE      install this conflist (checked first) instead of writing one
  --no-conflist        install the plugin only
  --name NAME          network name (default netlet)
  --mode MODE          bridge (default) or routed
  --bridge NAME        bridge mode: the bridge (default netlet0)
  --mtu N              pod interface MTU (default 1500)
  --pool CIDR          an address pool (repeatable; default 10.244.0.0/16)
  --node-name NAME     this node's name (default: the hostname at each call)
  --data-dir DIR       IPAM allocation state (default /var/lib/netlet/ipam)
  --portmap            chain the reference portmap plugin after netlet-cni
  --node PATH          Node.js ≥ 24 binary for the launcher (default: this one)
  --host-root DIR      installing from a container: the host's root is mounted at DIR
                       (e.g. /host); the plugin's runtime is copied to the host and the
                       launcher names host paths. --bin-dir/--conf-dir are as seen here
  --runtime-dir PATH   host path of that copy (default /opt/netlet/cni)
  --agent-socket PATH  install the fast path: a small C client that hands calls to
                       'netlet cni-server' (or the agent) on PATH, falling back to Node
  -h, --help           this help
`;

export const installCniCommand: Command = {
  summary: 'install the netlet-cni plugin and its network config',
  async run(argv: string[]): Promise<number> {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          'bin-dir': { type: 'string', default: '/opt/cni/bin' },
          'conf-dir': { type: 'string', default: '/etc/cni/net.d' },
          conflist: { type: 'string' },
          'no-conflist': { type: 'boolean' },
          name: { type: 'string' },
          mode: { type: 'string' },
          bridge: { type: 'string' },
          mtu: { type: 'string' },
          pool: { type: 'string', multiple: true },
          'node-name': { type: 'string' },
          'data-dir': { type: 'string' },
          portmap: { type: 'boolean' },
          node: { type: 'string' },
          'agent-socket': { type: 'string' },
          'host-root': { type: 'string' },
          'runtime-dir': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (err) {
      throw new ConfigError('', (err as Error).message);
    }
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (values.mode !== undefined && values.mode !== 'bridge' && values.mode !== 'routed') throw new ConfigError('--mode', 'must be bridge or routed');
    const mtu = values.mtu === undefined ? undefined : Number(values.mtu);
    if (mtu !== undefined && !Number.isInteger(mtu)) throw new ConfigError('--mtu', `not a number: ${values.mtu}`);
    const conflist = values['no-conflist']
      ? undefined
      : values.conflist
        ? JSON.parse(readFileSync(values.conflist, 'utf8'))
        : defaultConflist({
            name: values.name,
            mode: values.mode as 'bridge' | 'routed' | undefined,
            bridge: values.bridge,
            mtu,
            pools: values.pool?.length ? values.pool : ['10.244.0.0/16'],
            nodeName: values['node-name'],
            dataDir: values['data-dir'],
            portmap: values.portmap,
          });
    const out = installCni({
      binDir: values['bin-dir'],
      confDir: values['conf-dir'],
      nodePath: values.node,
      conflist,
      agentSocket: values['agent-socket'],
      hostRoot: values['host-root'],
      runtimeDir: values['runtime-dir'],
    });
    process.stdout.write(`installed ${out.plugin}${out.conflist ? ` and ${out.conflist}` : ''}\n`);
    return 0;
  },
};
