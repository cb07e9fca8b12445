import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { NetletError } from '../../base/errors.ts';
import { parseCommandLine } from '../command.ts';
import type { Command } from '../command.ts';
import { DEMO_DIR, demoNamespaces, teardown } from '../demo/lab.ts';
import { DEMO_PROXY_MODES, DEMO_ROUTE_MODES, NODES, PODS, TOR_AS } from '../demo/layout.ts';
import type { DemoProxyMode, DemoRouteMode } from '../demo/layout.ts';
import { attachPods, bgpSocket, birdInstalled, buildTopology, checks, kernelHasIpip, startAgents, startTopOfRack, startWebServers, waitForAgents, waitForRoutes, writeManifests } from '../demo/steps.ts';

const HELP = `usage: netlet demo [--proxy-mode iptables|nftables|ipvs] [--routes direct|vxlan|ipip|bgp] [--keep | --down]

Builds a two-node cluster in network namespaces on this machine (root
needed): pods get their network from netlet-cni, each node runs a netlet
agent from a manifest folder, then the demo checks services, NodePorts and
DNS from inside the pods, and removes everything again.

  --proxy-mode MODE  the agents' service proxy: iptables (default), nftables or ipvs
                     (ipvs needs a kernel with IPVS; the demo says so and stops where there is none)
  --routes MODE      how pods reach the other node: direct (default: both nodes
                     on one link), or vxlan / ipip (the nodes in two subnets
                     behind a router that does not route pod addresses, so
                     only the tunnel joins the pods; ipip needs a kernel with ipip),
                     or bgp (the router is a BIRD "top of rack" each node peers
                     with over eBGP: pod routes are learned, no tunnel, no
                     static route; needs BIRD 2, the bird command)
  --keep             leave the cluster running for exploring (remove it with --down)
  --down             remove a kept (or interrupted) demo
`;

const out = (s: string) => process.stdout.write(s);

/** How to look at a node's service rules in each mode. */
const EXPLORE_RULES: Record<DemoProxyMode, (netns: string) => string> = {
  iptables: (ns) => `  ip netns exec ${ns} iptables-save -t nat | grep KUBE-SVC\n`,
  nftables: (ns) => `  ip netns exec ${ns} nft list table ip netlet\n`,
  ipvs: (ns) => `  ip netns exec ${ns} ipvsadm -Ln; ip netns exec ${ns} ip addr show kube-ipvs0\n`,
};
const elapsed = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

async function step<T>(t0: number, what: string, fn: () => Promise<T> | T): Promise<T> {
  out(`• ${what} … `);
  const v = await fn();
  out(`done (${elapsed(t0)})\n`);
  return v;
}

/** The end of each process's log, shown before a failed demo removes them. */
function lastLogLines(): string {
  const dir = `${DEMO_DIR}/logs`;
  if (!existsSync(dir)) return '';
  return readdirSync(dir)
    .map((f) => {
      const lines = readFileSync(`${dir}/${f}`, 'utf8').trimEnd().split('\n').slice(-8);
      return `--- ${f}\n${lines.join('\n')}\n`;
    })
    .join('');
}

/** Stops an IPVS demo before it builds anything on a kernel without IPVS, saying why and what to load. */
async function requireIpvs(): Promise<void> {
  const { openIpvs } = await import('../../netlink/ipvs.ts');
  try {
    (await openIpvs()).close();
  } catch (err) {
    throw new NetletError('ERR_USAGE', `netlet demo --proxy-mode ipvs cannot run here: ${(err as Error).message}. Use --proxy-mode nftables or iptables on this machine.`);
  }
}

export const demoCommand: Command = {
  summary: 'a two-node cluster in network namespaces on this machine',
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandLine(
      argv,
      { 'proxy-mode': { type: 'string', default: 'iptables' }, routes: { type: 'string', default: 'direct' }, keep: { type: 'boolean' }, down: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      HELP,
    );
    if (values.help) {
      out(HELP);
      return 0;
    }
    const proxyMode = values['proxy-mode'] as DemoProxyMode;
    if (!DEMO_PROXY_MODES.includes(proxyMode)) {
      throw new NetletError('ERR_USAGE', `--proxy-mode must be ${DEMO_PROXY_MODES.join(' or ')}, got ${JSON.stringify(proxyMode)}\n${HELP}`);
    }
    const routeMode = values.routes as DemoRouteMode;
    if (!DEMO_ROUTE_MODES.includes(routeMode)) {
      throw new NetletError('ERR_USAGE', `--routes must be ${DEMO_ROUTE_MODES.join(', ')}, got ${JSON.stringify(routeMode)}\n${HELP}`);
    }
    if (process.getuid?.() !== 0) throw new NetletError('ERR_USAGE', 'the demo makes network namespaces: run it as root');
    if (proxyMode === 'ipvs' && !values.down) await requireIpvs();
    if (values.down) {
      await teardown();
      out('demo removed\n');
      return 0;
    }

    const t0 = Date.now();
    if ((await demoNamespaces()).length) await step(t0, 'removing the previous demo', teardown);
    if (routeMode === 'ipip' && !(await kernelHasIpip())) {
      throw new NetletError('ERR_USAGE', 'this kernel cannot make ipip devices (no ipip module): --routes ipip cannot run here; use --routes vxlan');
    }
    if (routeMode === 'bgp' && !(await birdInstalled())) {
      throw new NetletError('ERR_USAGE', '--routes bgp runs BIRD 2 as the top of rack router, and this machine has no bird command (Debian: apt-get install bird2)');
    }
    // An interrupted demo cleans up after itself (unless it was asked to stay).
    const onSignal = () => {
      out('\ninterrupted: removing the demo\n');
      teardown().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let failed = 0;
    try {
      const where =
        routeMode === 'direct' ? 'on one link' : routeMode === 'bgp' ? 'in two subnets behind a BIRD top of rack, routes over BGP' : `in two subnets behind a router, joined by ${routeMode}`;
      await step(t0, `making ${NODES.length} nodes (${where}), ${PODS.length} pods and an external client (network namespaces)`, () => buildTopology(routeMode));
      if (routeMode === 'bgp') await step(t0, `starting BIRD in the router namespace as the top of rack (AS ${TOR_AS}; ${NODES.map((n) => `${n.name} AS ${n.asNumber}`).join(', ')})`, startTopOfRack);
      // Agents first: netlet-cni gives each pod the MTU of its node's tunnel, which the agent makes.
      const manifests = writeManifests(new Map());
      await step(t0, `starting a netlet agent on each node (--manifests ${manifests}, routes ${routeMode})`, () => startAgents(manifests, proxyMode, routeMode));
      await step(t0, `waiting for each node's route to the other's pods (${routeMode})`, () => waitForRoutes(routeMode));
      const ips = await step(t0, 'giving the pods their network with netlet-cni (ADD, as containerd calls it)', attachPods);
      for (const [pod, ip] of ips) out(`    ${pod.padEnd(8)} ${ip}\n`);
      await step(t0, 'starting an HTTP server in each web pod', startWebServers);
      writeManifests(ips);
      await step(t0, 'waiting for the agents: healthy, service rules with the pods in the kernel, DNS ready', () => waitForAgents(proxyMode, ips.get('web-1')));
      out('\nchecks:\n');
      for (const c of checks(ips, proxyMode, routeMode)) {
        try {
          const detail = await c.run();
          out(`  ✓ ${c.name}: ${detail}\n`);
        } catch (err) {
          failed++;
          out(`  ✗ ${c.name}: ${(err as Error).message}\n`);
        }
      }
      out(`\n${failed ? `${failed} check(s) failed` : 'all checks passed'} in ${elapsed(t0)}\n`);
    } catch (err) {
      failed++;
      out(`\nfailed: ${(err as Error).message}\n`);
      out(lastLogLines());
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (values.keep) {
        out(
          `\nthe demo keeps running${failed ? ' (as it failed, for a look)' : ''}. Try:\n` +
            `  ip netns exec ${PODS[3].netns} curl -s http://10.96.0.100/\n` +
            `  ip netns exec ${PODS[3].netns} dig web.default.svc.cluster.local\n` +
            EXPLORE_RULES[proxyMode](NODES[0].netns) +
            (routeMode === 'bgp' ? `  ip netns exec ${NODES[0].netns} netlet bgp status --socket ${bgpSocket(NODES[0])}\n` : '') +
            `logs: ${DEMO_DIR}/logs/   remove it: netlet demo --down\n`,
        );
      } else {
        await teardown();
      }
    }
    return failed ? 1 : 0;
  },
};
