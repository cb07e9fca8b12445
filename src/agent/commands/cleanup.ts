import { parseCommandLine } from '../command.ts';
import type { Command } from '../command.ts';
import { proxyBackendKind, runnableModes } from '../proxy-backends.ts';

const HELP = `usage: netlet cleanup [--kube-proxy]

Removes the service proxy's iptables chains and the jumps to them (nat,
filter and mangle tables; IPv4 and IPv6; the nft and the legacy backend),
its nftables tables (ip netlet, ip6 netlet), its IPVS state (the virtual
servers on kube-ipvs0's addresses and NodePorts, kube-ipvs0, the KUBE-*
ipsets; other virtual servers are left alone), the routes to other nodes'
pod blocks netlet installed (its own route protocol, and proto bgp, which
its BGP speaker owns: stop any other daemon writing proto bgp, such as FRR,
before running this) and its tunnel
devices (vxlan.netlet and vxlan-v6.netlet deleted; tunl0, which cannot be
deleted, set down and bare when netlet marked it as its own). netlet's chains
have kube-proxy's names, so this also removes what kube-proxy's iptables
mode left. Every other rule, table and route is left alone.

  --kube-proxy   also remove what kube-proxy keeps that netlet never writes
                 (nat KUBE-FIREWALL of its IPVS mode) and the tables of kube-proxy's nftables mode (ip kube-proxy,
                 ip6 kube-proxy)
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
    let failed = false;
    // Every backend netlet has, not only the configured one: a node that
    // changed proxy.mode still holds the rules of the one it ran before.
    for (const mode of runnableModes()) {
      const backend = await proxyBackendKind(mode);
      for (const r of await backend.cleanup({ kubeProxy: values['kube-proxy'] ?? false })) {
        if (r.error) {
          failed = true;
          process.stderr.write(`${r.what}: ${r.error}\n`);
        } else {
          process.stdout.write(`${r.what}: removed ${r.removed} ${r.unit}${r.removed === 1 ? '' : 's'}\n`);
        }
      }
    }
    try {
      const { removeNodeRoutes } = await import('../../routes/cleanup.ts');
      const { NetlinkRouteTable } = await import('../../routes/netlink-route-table.ts');
      const { BGP_ROUTES_PROTOCOL } = await import('../../routes/route-table.ts');
      const { silentLogger } = await import('../../base/log.ts');
      // The routes the BGP speaker learned too: cleanup runs without the config, so whether BGP was on is unknown.
      const table = new NetlinkRouteTable(undefined, [BGP_ROUTES_PROTOCOL]);
      let removed: number;
      try {
        removed = await removeNodeRoutes(silentLogger, table);
      } finally {
        table.close();
      }
      process.stdout.write(`routes: removed ${removed} route${removed === 1 ? '' : 's'} to other nodes (proto 88 and bgp), and netlet's tunnel devices\n`);
    } catch (err) {
      failed = true;
      process.stderr.write(`routes: ${(err as Error).message}\n`);
    }
    return failed ? 1 : 0;
  },
};
