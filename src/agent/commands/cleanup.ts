import { cleanupAll } from '../../iptables/cleanup.ts';
import { parseCommandLine } from '../command.ts';
import type { Command } from '../command.ts';

const HELP = `usage: netlet cleanup [--kube-proxy]

Removes the service proxy's iptables chains and the jumps to them (nat,
filter and mangle tables; IPv4 and IPv6; the nft and the legacy backend),
and the routes to other nodes' pod blocks netlet installed (its own route
protocol only). netlet's chains have kube-proxy's names, so this also
removes what kube-proxy's iptables mode left. Every other rule and route is
left alone.

  --kube-proxy   also remove the chains kube-proxy's IPVS mode keeps in iptables
                 (KUBE-NODE-PORT, KUBE-LOAD-BALANCER, nat KUBE-FIREWALL,
                 KUBE-IPVS-FILTER, KUBE-IPVS-OUT-FILTER, KUBE-SOURCE-RANGES-FIREWALL)
  -h, --help     this help
`;

export const cleanupCommand: Command = {
  summary: "remove netlet's (and kube-proxy's) kernel state",
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandLine(argv, { 'kube-proxy': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, HELP);
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const reports = await cleanupAll({ kubeProxy: values['kube-proxy'] });
    let failed = false;
    for (const r of reports) {
      const what = `${r.family === 6 ? 'ip6tables' : 'iptables'}-${r.mode}`;
      if (r.error) {
        failed = true;
        process.stderr.write(`${what}: ${r.error}\n`);
      } else {
        process.stdout.write(`${what}: removed ${r.removedChains} chain${r.removedChains === 1 ? '' : 's'}\n`);
      }
    }
    try {
      const { removeNodeRoutes } = await import('../../routes/cleanup.ts');
      const { silentLogger } = await import('../../base/log.ts');
      const removed = await removeNodeRoutes(silentLogger);
      process.stdout.write(`routes: removed ${removed} route${removed === 1 ? '' : 's'} to other nodes\n`);
    } catch (err) {
      failed = true;
      process.stderr.write(`routes: ${(err as Error).message}\n`);
    }
    return failed ? 1 : 0;
  },
};
