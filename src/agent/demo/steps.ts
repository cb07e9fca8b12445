// The demo's steps: build the cluster, give pods their network through
// netlet-cni exactly as a runtime would, run an agent per node, then check
// what a user would check by hand.

import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { installCni } from '../../cni/install.ts';
import {
  APP_PORT, DNS_SERVICE_IP, DEMO_COREFILE, DEMO_PREFIX, EXTERNAL, NODE_PORT, NODES, PODS, WEB_SERVICE_IP,
  ROUTER, TOR_AS, agentConfig, clusterManifests, cniConflist, torBirdConfig, torSide, webPods,
} from './layout.ts';
import type { DemoNode, DemoPod, DemoProxyMode, DemoRouteMode } from './layout.ts';
import { TABLE } from '../../nftables/words.ts';
import { DEMO_DIR, addNetns, cable, inNetns, run, startDetached, writePodResolvConf } from './lab.ts';

// This file is src/agent/demo/steps.ts, or part of dist/netlet.mjs (scripts/build.ts).
const NETLET = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../../bin/netlet.js' : '../bin/netlet.js', import.meta.url));
const NODE = process.execPath;

export async function buildTopology(routeMode: DemoRouteMode = 'direct'): Promise<void> {
  for (const n of NODES) await addNetns(n.netns);
  for (const p of PODS) await addNetns(p.netns);
  await addNetns(EXTERNAL.netns);
  if (routeMode === 'direct') {
    await cable(NODES[0].netns, 'eth0', `${NODES[0].ip}/24`, NODES[1].netns, 'eth0', `${NODES[1].ip}/24`);
  } else {
    await addNetns(ROUTER.netns);
    await inNetns(ROUTER.netns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    await cable(ROUTER.netns, 'node1', `${ROUTER.node1Side}/31`, NODES[0].netns, 'eth0', `${NODES[0].ip}/31`);
    await cable(ROUTER.netns, 'node2', `${ROUTER.node2Side}/31`, NODES[1].netns, 'eth0', `${NODES[1].ip}/31`);
    await inNetns(NODES[0].netns, 'ip', ['route', 'add', 'default', 'via', ROUTER.node1Side]);
    await inNetns(NODES[1].netns, 'ip', ['route', 'add', 'default', 'via', ROUTER.node2Side]);
  }
  await cable(NODES[0].netns, 'ext0', `${EXTERNAL.nodeSide}/24`, EXTERNAL.netns, 'eth0', `${EXTERNAL.ip}/24`);
  await inNetns(EXTERNAL.netns, 'ip', ['route', 'add', 'default', 'via', EXTERNAL.nodeSide]);
  for (const p of PODS) writePodResolvConf(p.netns, DNS_SERVICE_IP);
}

/** Runs netlet-cni ADD for each pod, in its node's namespace, as containerd would. Returns pod → IP. */
export async function attachPods(): Promise<Map<string, string>> {
  const binDir = `${DEMO_DIR}/cni/bin`;
  installCni({ binDir, confDir: `${DEMO_DIR}/cni/net.d`, cacheDir: `${DEMO_DIR}/cni/cache` });
  const ips = new Map<string, string>();
  for (const pod of PODS) {
    const list = cniConflist(pod.node, DEMO_DIR) as { cniVersion: string; name: string; plugins: object[] };
    const netconf = { cniVersion: list.cniVersion, name: list.name, ...list.plugins[0] };
    const out = await inNetns(pod.node.netns, `${binDir}/netlet-cni`, [], {
      input: JSON.stringify(netconf),
      env: {
        PATH: process.env.PATH,
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: `demo-${pod.name}`,
        CNI_NETNS: `/var/run/netns/${pod.netns}`,
        CNI_IFNAME: 'eth0',
        CNI_PATH: binDir,
        CNI_ARGS: `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod.name}`,
      },
    });
    const result = JSON.parse(out) as { ips?: { address: string }[] };
    const ip = result.ips?.[0]?.address.split('/')[0];
    if (!ip) throw new Error(`netlet-cni gave ${pod.name} no address: ${out}`);
    ips.set(pod.name, ip);
  }
  return ips;
}

const SERVER = `require('node:http').createServer((q, s) => s.end(process.argv[1] + '\\n')).listen(${APP_PORT})`;

export function startWebServers(): void {
  for (const pod of webPods()) startDetached(pod.netns, `http-${pod.name}`, NODE, ['-e', SERVER, pod.name]);
}

export function writeManifests(ips: Map<string, string>): string {
  const dir = `${DEMO_DIR}/manifests`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/cluster.json`, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: clusterManifests(ips) }, null, 2));
  return dir;
}

/** Where a node's agent serves `netlet bgp status` (--routes bgp). */
export const bgpSocket = (node: DemoNode): string => `${DEMO_DIR}/bgp-${node.name}.sock`;
const TOR_SOCKET = () => `${DEMO_DIR}/bird-tor.ctl`;

/** Whether BIRD 2 can be run here (--routes bgp needs it as the top of rack). */
export async function birdInstalled(): Promise<boolean> {
  return run('bird', ['--version']).then(
    () => true,
    () => false,
  );
}

/** --routes bgp: BIRD in the router namespace, as the top of rack every node peers with. */
export async function startTopOfRack(): Promise<void> {
  mkdirSync(DEMO_DIR, { recursive: true });
  const conf = `${DEMO_DIR}/bird-tor.conf`;
  writeFileSync(conf, torBirdConfig());
  startDetached(ROUTER.netns, 'bird-tor', 'bird', ['-f', '-c', conf, '-s', TOR_SOCKET(), '-P', `${DEMO_DIR}/bird-tor.pid`]);
  await until('BIRD (top of rack) up', async () => ((await inNetns(ROUTER.netns, 'birdc', ['-s', TOR_SOCKET(), 'show', 'status'])).includes('Daemon is up') ? true : undefined));
}

export function startAgents(manifests: string, proxyMode: DemoProxyMode, routeMode: DemoRouteMode = 'direct'): void {
  writeFileSync(`${DEMO_DIR}/Corefile`, DEMO_COREFILE);
  for (const n of NODES) {
    const cfg = `${DEMO_DIR}/agent-${n.name}.json`;
    writeFileSync(cfg, JSON.stringify(agentConfig(`${DEMO_DIR}/Corefile`, proxyMode, routeMode, { node: n, statusSocket: bgpSocket(n) })));
    startDetached(n.netns, `agent-${n.name}`, NODE, [NETLET, 'agent', '--config', cfg, '--manifests', manifests, '--node-name', n.name]);
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (${last})` : ''} — see ${DEMO_DIR}/logs/`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What a node's service rules look like in each mode, as an operator would list them. */
const SERVICE_RULES: Record<DemoProxyMode, [string, string[]]> = {
  iptables: ['iptables-save', ['-t', 'nat']],
  nftables: ['nft', ['list', 'table', 'ip', TABLE]],
  ipvs: ['ipvsadm', ['-Ln']],
};

/** Where a node's route to the other node's pods must go in each mode (bgp: through the top of rack, learned from it). */
const ROUTE_VIA: Record<DemoRouteMode, (n: DemoNode) => string> = {
  direct: () => 'dev eth0',
  vxlan: () => 'dev vxlan.netlet',
  ipip: () => 'dev tunl0',
  bgp: (n) => `via ${torSide(n)} dev eth0`,
};

/**
 * Waits until each node routes to the other's pods the way the mode says.
 * Pods are attached after this: netlet-cni gives a pod the MTU of the
 * node's tunnel, so the tunnel must exist first.
 */
export async function waitForRoutes(routeMode: DemoRouteMode): Promise<void> {
  for (const [n, other] of [[NODES[0], NODES[1]], [NODES[1], NODES[0]]]) {
    const proto = routeMode === 'bgp' ? 'bgp' : '88';
    await until(
      `${n.name}'s route to ${other.name}'s pods (${routeMode})`,
      async () => ((await inNetns(n.netns, 'ip', ['route', 'show', other.podCIDR, 'proto', proto])).includes(ROUTE_VIA[routeMode](n)) ? true : undefined),
      // BGP: the sessions come up (BIRD's connect delay) and the routes cross two hops.
      routeMode === 'bgp' ? 40_000 : undefined,
    );
  }
}

/**
 * Whether this kernel can make an ipip device, asked in a throwaway
 * namespace. Where it can, asking loads the ipip module, which puts an idle,
 * down tunl0 in every namespace, the host's included: the demo's agents
 * would load it anyway.
 */
export async function kernelHasIpip(): Promise<boolean> {
  const probe = `${DEMO_PREFIX}-ipip-probe`;
  await addNetns(probe);
  try {
    await inNetns(probe, 'ip', ['link', 'add', 'name', 'probe0', 'type', 'ipip', 'local', '192.0.2.1']);
    return true;
  } catch {
    return false;
  } finally {
    await run('ip', ['netns', 'del', probe]).catch(() => undefined);
  }
}

/** Waits until every agent is healthy and has programmed the web service (and, given `endpoint`, that pod as one of its backends). */
export async function waitForAgents(proxyMode: DemoProxyMode, endpoint?: string): Promise<void> {
  const [lister, listArgs] = SERVICE_RULES[proxyMode];
  for (const n of NODES) {
    await until(`agent on ${n.name} healthy`, async () =>
      (await inNetns(n.netns, 'curl', ['-sf', 'http://127.0.0.1:10256/healthz'])) ? true : undefined,
    );
    await until(`service rules on ${n.name}`, async () => {
      const rules = await inNetns(n.netns, lister, listArgs);
      return rules.includes(WEB_SERVICE_IP) && (!endpoint || rules.includes(endpoint)) ? true : undefined;
    });
    await until(`DNS on ${n.name} answering`, async () =>
      (await inNetns(n.netns, 'dig', ['+short', '+time=1', '@127.0.0.1', 'web.default.svc.cluster.local'])).trim() === WEB_SERVICE_IP ? true : undefined,
    );
  }
}

export interface Check {
  name: string;
  run(): Promise<string>;
}

/** Asks the same URL `count` times on fresh connections from inside a namespace; returns answer → count. */
async function spread(netns: string, url: string, count: number): Promise<Map<string, number>> {
  const script = `
    const http = require('node:http');
    const seen = {};
    const one = () => new Promise((ok, fail) => http.get(process.argv[1], { agent: false, timeout: 3000 }, (r) => {
      let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => ok(b.trim()));
    }).on('error', fail).on('timeout', function () { this.destroy(new Error('timeout')); }));
    (async () => { for (let i = 0; i < ${count}; i++) { const who = await one(); seen[who] = (seen[who] || 0) + 1; } console.log(JSON.stringify(seen)); })()
      .catch((e) => { console.error(e.message); process.exit(1); });`;
  const out = await inNetns(netns, NODE, ['-e', script, url]);
  return new Map(Object.entries(JSON.parse(out) as Record<string, number>));
}

const fmt = (m: Map<string, number>) => [...m].map(([k, v]) => `${k}×${v}`).join(' ');

async function dig(pod: DemoPod, name: string, type: string): Promise<string> {
  const out = await inNetns(pod.netns, 'dig', ['+short', '+time=2', '+tries=2', `@${DNS_SERVICE_IP}`, name, type]);
  // dig prints retries as ';;' comment lines even with +short: keep only answers.
  return out.split('\n').filter((l) => l && !l.startsWith(';')).join('\n');
}

export function checks(ips: Map<string, string>, proxyMode: DemoProxyMode, routeMode: DemoRouteMode = 'direct'): Check[] {
  const client = PODS.find((p) => p.name === 'client')!;
  const web = webPods();
  const expect = (cond: boolean, detail: string) => {
    if (!cond) throw new Error(detail);
    return detail;
  };
  return [
    ...(routeMode === 'bgp' ? bgpChecks() : []),
    {
      name: `pod → pod across nodes (client on node2 → web-1 on node1, ${ips.get('web-1')})`,
      run: async () => {
        const seen = await spread(client.netns, `http://${ips.get('web-1')}:${APP_PORT}/`, 1);
        return expect(seen.get('web-1') === 1, `answered by ${fmt(seen)}`);
      },
    },
    {
      name: `full-size packets cross (${routeMode}): a DF ping client → web-1 at the pod's MTU`,
      run: async () => {
        const mtu = Number(/ mtu (\d+) /.exec(await inNetns(client.netns, 'ip', ['-o', 'link', 'show', 'eth0']))?.[1]);
        const out = await inNetns(client.netns, 'ping', ['-c', '1', '-W', '2', '-M', 'do', '-s', String(mtu - 28), ips.get('web-1')!]);
        return expect(/1 received/.test(out), `pod MTU ${mtu}, ${mtu - 28} + 28 bytes with DF set: answered`);
      },
    },
    {
      name: `ClusterIP ${WEB_SERVICE_IP}:80 spreads over all backends (30 requests from client)`,
      run: async () => {
        const seen = await spread(client.netns, `http://${WEB_SERVICE_IP}/`, 30);
        return expect(web.every((p) => (seen.get(p.name) ?? 0) > 0), fmt(seen));
      },
    },
    {
      name: `NodePort ${EXTERNAL.nodeSide}:${NODE_PORT} from the external namespace`,
      run: async () => {
        const seen = await spread(EXTERNAL.netns, `http://${EXTERNAL.nodeSide}:${NODE_PORT}/`, 6);
        return expect([...seen.keys()].every((k) => web.some((p) => p.name === k)), fmt(seen));
      },
    },
    {
      name: 'DNS A web.default.svc.cluster.local',
      run: async () => {
        const a = await dig(client, 'web.default.svc.cluster.local', 'A');
        return expect(a === WEB_SERVICE_IP, a || '(empty)');
      },
    },
    {
      name: 'DNS SRV _http._tcp.web.default.svc.cluster.local',
      run: async () => {
        const srv = await dig(client, '_http._tcp.web.default.svc.cluster.local', 'SRV');
        return expect(/ 80 web\.default\.svc\.cluster\.local\.$/.test(srv), srv || '(empty)');
      },
    },
    {
      name: 'DNS A web-headless (one record per pod)',
      run: async () => {
        const a = (await dig(client, 'web-headless.default.svc.cluster.local', 'A')).split('\n').sort();
        const want = web.map((p) => ips.get(p.name)!).sort();
        return expect(JSON.stringify(a) === JSON.stringify(want), a.join(' '));
      },
    },
    {
      name: 'DNS CNAME docs (ExternalName)',
      run: async () => {
        const c = await dig(client, 'docs.default.svc.cluster.local', 'CNAME');
        return expect(c === 'docs.example.org.', c || '(empty)');
      },
    },
    {
      name: "short name through the pod's resolv.conf (getent hosts web)",
      run: async () => {
        const line = (await inNetns(client.netns, 'getent', ['hosts', 'web'])).trim();
        return expect(line.startsWith(WEB_SERVICE_IP), line);
      },
    },
    {
      name: `netlet trace ${ips.get('client')} → ${WEB_SERVICE_IP}:80/tcp on node2`,
      run: async () => {
        const out = await inNetns(NODES[1].netns, NODE, [NETLET, 'trace', '--proxy-mode', proxyMode, ips.get('client')!, `${WEB_SERVICE_IP}:80/tcp`]);
        const hits = web.filter((p) => out.includes(ips.get(p.name)!));
        return expect(hits.length === web.length, `\n${out.trimEnd().replace(/^/gm, '      ')}`);
      },
    },
  ];
}

/** --routes bgp: each agent's sessions (`netlet bgp status`), and what the top of rack learned. */
function bgpChecks(): Check[] {
  const expect = (cond: boolean, detail: string) => {
    if (!cond) throw new Error(detail);
    return detail;
  };
  const indent = (text: string) => `\n${text.trimEnd().replace(/^/gm, '      ')}`;
  return [
    ...NODES.map((n) => ({
      name: `netlet bgp status on ${n.name}: Established with the top of rack (AS ${TOR_AS}), the other node's podCIDR received`,
      run: async () => {
        const text = await inNetns(n.netns, NODE, [NETLET, 'bgp', 'status', '--socket', bgpSocket(n)]);
        const row = text.split('\n').find((l) => l.includes(torSide(n))) ?? '';
        return expect(/\bEstablished\b/.test(row) && /\s1\s+1\s*$/.test(row), indent(text));
      },
    })),
    {
      name: 'the top of rack (BIRD) learned both podCIDRs, each from its node',
      run: async () => {
        const routes = await inNetns(ROUTER.netns, 'birdc', ['-s', TOR_SOCKET(), 'show', 'route']);
        return expect(NODES.every((n) => new RegExp(`${n.podCIDR.replace(/\./g, '\\.')}\\s+unicast \\[${n.name} `).test(routes)), indent(routes));
      },
    },
    {
      name: 'no static route on the nodes: the other podCIDR is proto bgp, via the top of rack',
      run: async () => {
        const lines: string[] = [];
        for (const [n, other] of [[NODES[0], NODES[1]], [NODES[1], NODES[0]]]) {
          const r = (await inNetns(n.netns, 'ip', ['route', 'show', other.podCIDR])).trim();
          if (!r.includes(`via ${torSide(n)}`) || !r.includes('proto bgp')) throw new Error(`${n.name}: ${r || 'no route'}`);
          if ((await inNetns(n.netns, 'ip', ['route', 'show', 'proto', 'static'])).trim()) throw new Error(`${n.name} has static routes`);
          lines.push(`${n.name}: ${r}`);
        }
        return lines.join('; ');
      },
    },
  ];
}
