// Network programming latency of the whole agent: one EndpointSlice change
// → the new endpoint's KUBE-SEP chain in the kernel, at 10,000 ClusterIP
// services × 3 endpoints, beside the floor for that change (iptables-restore
// alone on exactly the text the backend sends for it, measured in the same
// run) and the agent's memory. Everything runs inside one throwaway network
// namespace (the "node"): the test API server, the agent, the probes.
//
//   npx node bench/programming-latency.ts [--services 10000] [--changes 200] [--gap-ms 400]
//        [--min-sync-period 0s] [--sync-period 30s] [--full-sync-period 1h] [--modes nft,legacy]
//        [--probe-ms 0] [--legacy-probe-ms 0] [--label TEXT] [--json FILE]
//
// --modes takes the iptables modes (nft, legacy) and nftables, the proxy
// mode: there the floor is `nft -f` alone of the input the nftables backend
// would write for such a change through nft (the agent writes such
// element-only changes as one nf_tables netlink batch instead), the canary column the kernel's rule dump that
// intact() polls, and no probe runs (listing anything in nft 1.0.6 reads
// every set's elements: a probe would be a load on the machine).
//
// The headline is event → rules: from the moment the watch event reached the
// agent (its proxier saw the store change: "eventAt" in the agent's sync log;
// decoding one event takes well under 1 ms) to the end of the sync that
// applied it, i.e. after iptables-restore returned. That is what the agent
// controls; the API server's own delivery (the test server here) is shown
// apart. Changes whose wait included a full sync (fullSyncPeriod, or a
// resync after a failure) are reported apart: they wait for it by design.
//
// Per change the script replaces one endpoint IP of a random service's slice
// with a PUT whose endpoints.kubernetes.io/last-change-trigger-time is the
// moment of the write, and also measures from the API write three ways:
//   histogram = the agent's kubeproxy_network_programming_duration_seconds
//               (sum/count delta per change, so exact values, not buckets)
//   probe     = an outside poller running `iptables -t nat -S KUBE-SEP-<hash>`
//               on the one expected chain every --probe-ms (cheap, unlike
//               iptables-save); resolution = interval + one probe's cost.
//               Off for legacy by default: there every look reads the whole
//               table from the kernel (~185 ms at 10k services) under the
//               xtables lock, and so slows the agent it measures.
//   sync end  = the agent's debug log line of the sync that applied it
// and splits the time with the agent's log (sync duration, applyMs) and a
// second watcher of the API (delivery of the event over a watch).

import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Lab } from '../test/helpers/netns.ts';
import { openWatch } from '../test/apiserver/watch-client.ts';
import { buildConfig, ruleBackendOptions } from '../src/agent/config.ts';
import { silentLogger } from '../src/base/log.ts';
import { convertObject } from '../src/k8s/convert/index.ts';
import { IptablesBackend } from '../src/iptables/backend.ts';
import { NftablesBackend } from '../src/nftables/backend.ts';
import { systemNft } from '../src/nftables/nft.ts';
import type { NftRunner } from '../src/nftables/nft.ts';
import { netlinkRuleCounts } from '../src/nftables/rule-counts.ts';
import { KUBE_PROXY_CANARY, sepChain } from '../src/iptables/chain-names.ts';
import { toolsFor } from '../src/iptables/tools.ts';
import type { IptablesMode } from '../src/iptables/tools.ts';
import { buildPlans } from '../src/proxier/plan-builder.ts';
import { planKey } from '../src/proxier/plan.ts';
import type { PlanSet } from '../src/proxier/plan.ts';

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE = 'pl-node';
const CLUSTER_CIDR = '10.128.0.0/10';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** An iptables mode of the iptables proxy mode, or the nftables proxy mode. */
type BenchMode = IptablesMode | 'nftables';

interface Options { services: number; changes: number; gapMs: number; minSyncPeriod: string; syncPeriod: string; fullSyncPeriod: string; probeMs: number; legacyProbeMs: number; mode: BenchMode }

// ---- the cluster: N services × 3 endpoints, one slice each, every 1000th with an endpoint on this node ----

const nsOf = (i: number) => `ns${i % 100}`;
const epIP = (n: number) => `10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
const vip = (i: number) => `10.96.${((i + 10) >> 8) & 255}.${(i + 10) & 255}`;

function service(i: number): any {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name: `svc${i}`, namespace: nsOf(i) },
    spec: { type: 'ClusterIP', clusterIP: vip(i), clusterIPs: [vip(i)], ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
  };
}

function slice(i: number, ips: string[], triggerTime?: string): any {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: `svc${i}-pl`, namespace: nsOf(i), labels: { 'kubernetes.io/service-name': `svc${i}` },
      ...(triggerTime ? { annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': triggerTime } } : {}),
    },
    addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip, e) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: e === 0 && i % 1000 === 0 ? NODE : `node-${(i + e) % 50}` })),
  };
}

const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE }, status: { addresses: [{ type: 'InternalIP', address: '192.168.100.1' }] } };

// ---- small measuring helpers ----

function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

function memOf(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

async function timeCommand(cmd: string, args: string[], rounds: number): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await execFileP(cmd, args).catch(() => undefined);
    out.push(performance.now() - t0);
  }
  return out;
}

interface SyncLine { time: number; full: boolean; changed: number; ms: number; applyMs: number; eventAt: number }

/** The agent's debug log on stderr: keeps the "proxy rules synced" lines. */
function followAgentLog(agent: ChildProcess, lines: SyncLine[], tail: string[]): void {
  let buf = '';
  agent.stderr!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (!line.includes('"proxy rules synced"')) continue;
      const j = JSON.parse(line);
      // The agent also runs an (empty) IPv6 proxier when the node has ip6tables; only IPv4 matters here.
      if (j.family !== 'IPv4') continue;
      lines.push({ time: j.time, full: j.full, changed: j.changed, ms: j.ms, applyMs: j.applyMs, eventAt: j.eventAt ?? NaN });
    }
  });
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The agent's V8 heap in use (prom-client's default metrics), beside its RSS. */
async function heapUsedMb(): Promise<number> {
  const text = await (await fetch('http://127.0.0.1:10249/metrics')).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? NaN) / (1 << 20);
}

async function programmingSumCount(): Promise<[number, number]> {
  const text = await (await fetch('http://127.0.0.1:10249/metrics')).text();
  const v = (suffix: string) => Number(new RegExp(`^kubeproxy_network_programming_duration_seconds_${suffix}\\{ip_family="IPv4"\\} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
  return [v('sum'), v('count')];
}

// ---- the child: runs inside the node namespace ----

interface ChangeResult {
  /** Watch event at the agent → end of the sync that applied it (rules in the kernel). */
  eventMs: number;
  /** Watch event at the agent → that sync's start (runner, plan rebuild). */
  eventWaitMs: number;
  histogramMs: number; probeMs: number; syncEndMs: number; watchMs: number; waitMs: number; renderMs: number; applyMs: number; syncMs: number; overlappedFull: boolean;
}

async function child(o: Options) {
  const dir = mkdtempSync(join(tmpdir(), 'nlpl-'));
  const procs: ChildProcess[] = [];
  try {
    const ips = Array.from({ length: o.services }, (_, i) => [0, 1, 2].map((e) => epIP(i * 3 + e)));
    const objects: any[] = [node, ...Array.from({ length: 100 }, (_, n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}` } }))];
    for (let i = 0; i < o.services; i++) objects.push(service(i), slice(i, ips[i]));
    writeFileSync(join(dir, 'seed.json'), JSON.stringify(objects));
    const kubeconfig = join(dir, 'kubeconfig');
    const api = spawn(process.execPath, [join(ROOT, 'test/apiserver/main.ts'), '--listen', '127.0.0.1:0', '--seed', join(dir, 'seed.json'), '--kubeconfig', kubeconfig], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(api);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      api.stdout!.on('data', (d) => {
        out += d;
        const m = /listening (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      api.once('exit', (c) => reject(new Error(`API server exited (${c})`)));
    });

    writeFileSync(join(dir, 'agent.yaml'), [
      'healthzBindAddress: 127.0.0.1:10256', 'metricsBindAddress: 127.0.0.1:10249', 'proxy:', `  clusterCIDR: ${CLUSTER_CIDR}`,
      `  ${o.mode === 'nftables' ? 'nftables' : 'iptables'}: {minSyncPeriod: ${o.minSyncPeriod}, syncPeriod: ${o.syncPeriod}${o.fullSyncPeriod ? `, fullSyncPeriod: ${o.fullSyncPeriod}` : ''}}`,
      // Leave every conntrack sysctl alone: nf_conntrack_max and its hash size are host-wide.
      '  conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}', '',
    ].join('\n'));
    const started = Date.now();
    const agent = spawn(process.execPath, [join(ROOT, 'bin/netlet.js'), 'agent', '--config', join(dir, 'agent.yaml'), '--kubeconfig', kubeconfig, '--node-name', NODE, '--proxy-mode', o.mode === 'nftables' ? 'nftables' : 'iptables', '--log-level', 'debug'], {
      stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...(o.mode === 'nftables' ? {} : { NETLET_IPTABLES_MODE: o.mode }) },
    });
    procs.push(agent);
    const syncs: SyncLine[] = [];
    const tail: string[] = [];
    followAgentLog(agent, syncs, tail);
    agent.once('exit', (c) => process.stderr.write(`agent exited (${c}):\n${tail.join('\n')}\n`));
    const first = await waitFor(() => syncs.find((s) => s.full), 300_000, 'the first full sync');
    const firstSyncS = (first.time - started) / 1000;
    const memFirst = { ...memOf(agent.pid!), heapMb: await heapUsedMb() };
    process.stderr.write(`${o.mode} ${o.services}: first full sync ${firstSyncS.toFixed(1)} s after start (${(first.ms / 1000).toFixed(1)} s in the backend)\n`);

    const floorSampler = await (o.mode === 'nftables' ? prepareNftFloor : prepareFloor)(o as Options & { mode: IptablesMode }, dir, Array.from({ length: o.services }, (_, i) => [service(i), slice(i, ips[i])]));
    const floorMs: number[] = [];
    // A second watcher from now on: how long the API takes to deliver the event.
    const rv = ((await (await fetch(`${url}/apis/discovery.k8s.io/v1/endpointslices?limit=1`)).json()) as any).metadata.resourceVersion;
    const watch = await openWatch(`${url}/apis/discovery.k8s.io/v1/endpointslices?watch=1&resourceVersion=${rv}&allowWatchBookmarks=false`);

    const results: ChangeResult[] = [];
    const changedSvc = new Set<number>([FLOOR_SERVICE % o.services]);
    const iptables = `iptables-${o.mode}`;
    for (let k = 0; k < o.changes; k++) {
      let i: number;
      do i = Math.floor(Math.random() * o.services); while (changedSvc.has(i));
      changedSvc.add(i);
      const newIP = `10.250.${k >> 8}.${(k & 255) + 1}`;
      ips[i] = [newIP, ...ips[i].slice(1)];
      const chain = sepChain(`${nsOf(i)}/svc${i}:http`, 'tcp', `${newIP}:8080`);
      const [sum0, count0] = await programmingSumCount();
      const syncsBefore = syncs.length;

      const t0 = Date.now();
      const body = JSON.stringify(slice(i, ips[i], new Date(t0).toISOString()));
      const put = fetch(`${url}/apis/discovery.k8s.io/v1/namespaces/${nsOf(i)}/endpointslices/svc${i}-pl`, { method: 'PUT', body, headers: { 'content-type': 'application/json' } });
      const watched = (async () => {
        for (;;) {
          const ev = await watch.next(30_000);
          if (ev?.object?.metadata?.name === `svc${i}-pl`) return Date.now();
        }
      })();
      const probeEvery = o.mode === 'nftables' ? 0 : o.mode === 'legacy' ? o.legacyProbeMs : o.probeMs;
      const probed = (async () => {
        if (probeEvery <= 0) return NaN;
        for (;;) {
          const ok = await execFileP(iptables, ['-w', '5', '-t', 'nat', '-S', chain]).then(() => true, () => false);
          if (ok) return Date.now();
          if (Date.now() - t0 > 30_000) throw new Error(`${chain} never appeared`);
          await sleep(probeEvery);
        }
      })();
      const res = await put;
      if (!res.ok) throw new Error(`PUT failed: ${res.status} ${await res.text()}`);
      const [tWatch, tProbe] = await Promise.all([watched, probed]);
      // Long: a change caught by a full sync waits for it, and a full sync on a loaded machine can take a minute.
      // The sync that took this change: its first event came after the write (a periodic full
      // sync already running when the event arrived has an earlier or no eventAt).
      const line = await waitFor(() => syncs.slice(syncsBefore).find((s) => s.eventAt >= t0 && (s.changed > 0 || s.full)), 120_000, 'the sync log line');
      // Observed after every family's sync (an IPv6 full sync may still run): wait for the count to move.
      let [sum1, count1] = await programmingSumCount();
      for (const deadline = Date.now() + 120_000; count1 === count0 && Date.now() < deadline; [sum1, count1] = await programmingSumCount()) await sleep(10);
      const syncStart = line.time - line.ms;
      results.push({
        eventMs: line.time - line.eventAt, eventWaitMs: syncStart - line.eventAt, syncMs: line.ms,
        histogramMs: count1 - count0 === 1 ? (sum1 - sum0) * 1000 : NaN,
        probeMs: tProbe - t0, syncEndMs: line.time - t0, watchMs: tWatch - t0,
        waitMs: syncStart - t0, renderMs: line.ms - line.applyMs, applyMs: line.applyMs,
        overlappedFull: syncs.slice(syncsBefore).some((s) => s.full),
      });
      floorMs.push(await floorSampler.sample());
      await sleep(o.gapMs - (Date.now() - t0));
    }
    watch.close();
    const memAfter = { ...memOf(agent.pid!), heapMb: await heapUsedMb() };
    const fullDuringChanges = syncs.filter((s) => s.full).length - 1;
    agent.removeAllListeners('exit');
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));

    const floor = { floorMs, partialInputLines: floorSampler.partialInputLines, ...(await (o.mode === 'nftables' ? nftLookCosts() : lookCosts(o as Options & { mode: IptablesMode }))) };
    return { mode: o.mode, services: o.services, minSyncPeriod: o.minSyncPeriod, fullSyncPeriod: o.fullSyncPeriod, firstSyncS, memFirst, memAfter, fullDuringChanges, results, ...floor };
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The service whose endpoint the floor samples flip; no API change picks it. */
const FLOOR_SERVICE = 7;

/**
 * The floor: a backend in this process over the rules the agent wrote, with
 * the same plans; its iptables-restore goes through a wrapper that keeps each
 * input, so one endpoint change of FLOOR_SERVICE (and the change back) gives
 * exactly the text the backend sends for such a change. The samples are then
 * iptables-restore alone on those two texts, alternately (each one a real
 * change), one after each measured change: the machine is shared, so the
 * floor must see the same load as the changes it is compared with.
 */
async function prepareFloor(o: Options & { mode: IptablesMode }, dir: string, pairs: any[][]) {
  const real = toolsFor(o.mode, 4);
  const wrapDir = join(dir, 'wrap');
  const inputs = join(dir, 'inputs');
  execFileSync('mkdir', ['-p', wrapDir, inputs]);
  const which = (c: string) => execFileSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).trim();
  const wrapper = join(wrapDir, `iptables-${o.mode}-restore`);
  writeFileSync(wrapper, `#!/bin/sh\nf=$(mktemp "${inputs}/in.XXXXXX")\ncat > "$f"\nexec ${which(real.restore)} "$@" < "$f"\n`);
  chmodSync(wrapper, 0o755);
  // Older versions ran the canary check (`iptables-<mode>`) beside the restore tool.
  symlinkSync(which(`iptables-${o.mode}`), join(wrapDir, `iptables-${o.mode}`));
  const tools = { ...real, restore: wrapper };

  const config = buildConfig({ proxy: { clusterCIDR: CLUSTER_CIDR } });
  const ctx = { nodeName: NODE, node: convertObject('Node', node), masqueradeAll: false, clusterCIDRs: [CLUSTER_CIDR] };
  const plans: PlanSet = new Map();
  const planOf = (svc: any, sl: any) => buildPlans(convertObject('Service', svc), [convertObject('EndpointSlice', sl)], 4, ctx);
  for (const [svc, sl] of pairs) for (const p of planOf(svc, sl)) plans.set(planKey(p), p);
  const backend = new IptablesBackend({ tools, log: silentLogger, ...ruleBackendOptions(config, 'iptables') });
  await backend.sync({ family: 4, plans, changed: new Set(), full: true, nodePortAddresses: [] });

  const [svc, sl] = pairs[FLOOR_SERVICE % o.services];
  const captured: string[] = [];
  for (const ip of ['10.251.0.1', sl.endpoints[0].addresses[0]]) {
    const changed = structuredClone(sl);
    changed.endpoints[0].addresses = [ip];
    const [p] = planOf(svc, changed);
    plans.set(planKey(p), p);
    rmSync(inputs, { recursive: true });
    execFileSync('mkdir', ['-p', inputs]);
    await backend.sync({ family: 4, plans, changed: new Set([planKey(p)]), full: false, nodePortAddresses: [] });
    const files = readdirSync(inputs);
    if (files.length !== 1) throw new Error(`expected one restore for a partial sync, saw ${files.length}`);
    captured.push(readFileSync(join(inputs, files[0]), 'utf8'));
  }
  let k = 0;
  /** One floor sample: the restore alone, ms. */
  const sample = async (): Promise<number> => {
    const t0 = performance.now();
    // -w 60, not the agent's 5: /run/xtables.lock is one per host, not per namespace, and
    // everyone's legacy iptables on a loaded shared machine can hold it for seconds.
    const r = spawnSync(real.restore, ['-w', '60', '--noflush'], { input: captured[k++ % 2], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${real.restore} failed: ${r.stderr}`);
    return performance.now() - t0;
  };
  return { sample, partialInputLines: captured[0].split('\n').length };
}

/**
 * The nftables floor, as prepareFloor's: a backend in this process over the
 * table the agent wrote (its first full sync adopts it), its `nft -f` inputs
 * kept; one endpoint change of FLOOR_SERVICE and the change back give the
 * two inputs that `nft -f` alone then applies, alternately.
 */
async function prepareNftFloor(o: Options, _dir: string, pairs: any[][]) {
  let lastInput = '';
  const recording: NftRunner = {
    run: (args, input) => {
      if (args[0] === '-f') lastInput = input ?? '';
      return systemNft.run(args, input);
    },
  };
  const config = buildConfig({ proxy: { clusterCIDR: CLUSTER_CIDR } });
  const ctx = { nodeName: NODE, node: convertObject('Node', node), masqueradeAll: false, clusterCIDRs: [CLUSTER_CIDR] };
  const plans: PlanSet = new Map();
  const planOf = (svc: any, sl: any) => buildPlans(convertObject('Service', svc), [convertObject('EndpointSlice', sl)], 4, ctx);
  for (const [svc, sl] of pairs) for (const p of planOf(svc, sl)) plans.set(planKey(p), p);
  const { masqueradeBit, tcpBeLiberal } = ruleBackendOptions(config, 'nftables');
  const backend = new NftablesBackend({ family: 4, log: silentLogger, masqueradeBit, tcpBeLiberal, nft: recording });
  await backend.sync({ family: 4, plans, changed: new Set(), full: true, nodePortAddresses: [] });
  const [svc, sl] = pairs[FLOOR_SERVICE % o.services];
  const captured: string[] = [];
  for (const ip of ['10.251.0.1', sl.endpoints[0].addresses[0]]) {
    const changed = structuredClone(sl);
    changed.endpoints[0].addresses = [ip];
    const [p] = planOf(svc, changed);
    plans.set(planKey(p), p);
    await backend.sync({ family: 4, plans, changed: new Set([planKey(p)]), full: false, nodePortAddresses: [] });
    captured.push(lastInput);
  }
  let k = 0;
  const sample = async (): Promise<number> => {
    const t0 = performance.now();
    const r = await systemNft.run(['-f', '-'], captured[k++ % 2]);
    if (r.code !== 0) throw new Error(`nft -f failed: ${r.stderr}`);
    return performance.now() - t0;
  };
  return { sample, partialInputLines: captured[0].split('\n').length - 1 };
}

/** What intact()'s rule dump costs (nftables mode: no probe). */
async function nftLookCosts() {
  const canaryMs: number[] = [];
  for (let r = 0; r < 10; r++) {
    const t0 = performance.now();
    await netlinkRuleCounts(4);
    canaryMs.push(performance.now() - t0);
  }
  return { canaryMs, probeCostMs: [] as number[] };
}

/** What one look costs, after the agent stopped: the canary check and the probe. */
async function lookCosts(o: Options & { mode: IptablesMode }) {
  const canaryMs = await timeCommand(`iptables-${o.mode}`, ['-w', '5', '-t', 'nat', '-S', KUBE_PROXY_CANARY], 10);
  const probeCostMs = await timeCommand(`iptables-${o.mode}`, ['-w', '5', '-t', 'nat', '-S', sepChain('ns1/svc1:http', 'tcp', '10.9.9.9:8080')], 10);
  return { canaryMs, probeCostMs };
}

// ---- the parent: one namespace per backend, a table ----

type Row = Awaited<ReturnType<typeof child>>;

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const trio = (v: number[]) => `${f0(pct(v, 50))} / ${f0(pct(v, 99))} / ${f0(Math.max(...v))}`;

const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? (a / b).toFixed(2) : '–');

function table(rows: Row[], label: string): string {
  const tag = label ? `${label} ` : '';
  const out = [
    '| run | services | changes (histogram samples) | event → rules p50 / p99 / max (ms) | floor: restore alone p50 / p99 (ms) | event→rules / floor, p50 | p99 | changes caught by a full sync: n, event → rules p50 / max (ms) | API write → rules, agent histogram p50 / p99 / max (ms) | API write → chain seen by probe p50 / p99 / max (ms) | agent RSS / VmHWM (V8 heap) after first sync | after the changes | first full sync |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const quiet = r.results.filter((c) => !c.overlappedFull);
    const caught = r.results.filter((c) => c.overlappedFull);
    const ev = quiet.map((c) => c.eventMs).filter(Number.isFinite);
    const h = r.results.map((c) => c.histogramMs).filter(Number.isFinite);
    const probe = r.results.map((c) => c.probeMs).filter(Number.isFinite);
    const caughtEv = caught.map((c) => c.eventMs).filter(Number.isFinite);
    const f50 = pct(r.floorMs, 50);
    const f99 = pct(r.floorMs, 99);
    out.push(
      `| ${tag}${r.mode} | ${r.services} | ${r.results.length} (${h.length}) | ${trio(ev)} | ${f1(f50)} / ${f1(f99)} (${r.floorMs.length} runs) | ${ratio(pct(ev, 50), f50)} | ${ratio(pct(ev, 99), f99)} | ${caught.length}${caughtEv.length ? `: ${f0(pct(caughtEv, 50))} / ${f0(Math.max(...caughtEv))}` : ''} | ${trio(h)} | ${probe.length ? trio(probe) : 'off'} | ${f0(r.memFirst.rssMb)} / ${f0(r.memFirst.hwmMb)} MB (${f0(r.memFirst.heapMb)}) | ${f0(r.memAfter.rssMb)} / ${f0(r.memAfter.hwmMb)} MB (${f0(r.memAfter.heapMb)}) | ${r.firstSyncS.toFixed(1)} s |`,
    );
  }
  out.push('', "Where the time goes (medians over the changes no full sync caught, ms; the agent's own timestamps):", '');
  out.push('| run | API write → event at a 2nd watcher (API server delivery) | event → sync starts (runner, plan rebuild) | sync: netlet\'s own work (sync minus applyMs) | sync: applyMs (iptables-restore) | netlet share of the sync | event → rules minus applyMs: what netlet adds, p50 / p99 | restore alone (floor) | restore input lines | canary check alone (polled apart, not per sync) | probe cost | full syncs during the changes |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const quiet = r.results.filter((c) => !c.overlappedFull);
    const med = (f: (c: ChangeResult) => number) => pct(quiet.map(f).filter(Number.isFinite), 50);
    out.push(`| ${tag}${r.mode} | ${f1(med((c) => c.watchMs))} | ${f1(med((c) => c.eventWaitMs))} | ${f1(med((c) => c.renderMs))} | ${f1(med((c) => c.applyMs))} | ${f0(100 * med((c) => c.renderMs / c.syncMs))}% | ${f1(pct(quiet.map((c) => c.eventMs - c.applyMs).filter(Number.isFinite), 50))} / ${f1(pct(quiet.map((c) => c.eventMs - c.applyMs).filter(Number.isFinite), 99))} | ${f1(pct(r.floorMs, 50))} | ${r.partialInputLines} | ${f1(pct(r.canaryMs, 50))} | ${f1(pct(r.probeCostMs, 50))} | ${r.fullDuringChanges} |`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      services: { type: 'string', default: '10000' },
      changes: { type: 'string', default: '200' },
      'gap-ms': { type: 'string', default: '400' },
      'min-sync-period': { type: 'string', default: '0s' },
      'sync-period': { type: 'string', default: '30s' },
      'full-sync-period': { type: 'string', default: '' },
      label: { type: 'string', default: '' },
      json: { type: 'string' },
      // Off by default: every probe is an iptables process that competes with the restore it watches.
      'probe-ms': { type: 'string', default: '0' },
      'legacy-probe-ms': { type: 'string', default: '0' },
      modes: { type: 'string', default: 'nft,legacy' },
    },
  });
  if (values.child) {
    process.stdout.write(JSON.stringify(await child(JSON.parse(values.child) as Options)) + '\n');
    return;
  }
  const base = { services: Number(values.services), changes: Number(values.changes), gapMs: Number(values['gap-ms']), minSyncPeriod: values['min-sync-period']!, syncPeriod: values['sync-period']!, fullSyncPeriod: values['full-sync-period']!, probeMs: Number(values['probe-ms'])};
  if (base.changes >= base.services) {
    process.stderr.write('--changes must be fewer than --services (each change picks a service not changed before; one is kept for the floor)\n');
    process.exit(2);
  }
  const legacyProbeMs = Number(values['legacy-probe-ms']);
  for (const [flag, v] of [['--legacy-probe-ms', legacyProbeMs], ['--probe-ms', base.probeMs]] as const) {
    if (!(v >= 0)) {
      process.stderr.write(`${flag} must be 0 (off) or a positive number\n`);
      process.exit(2);
    }
  }
  for (const [k, v] of Object.entries(base)) {
    if (typeof v === 'number' && k !== 'probeMs' && !(v > 0)) {
      process.stderr.write(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive number\n`);
      process.exit(2);
    }
  }
  const modes = values.modes!.split(',');
  if (modes.some((m) => m !== 'nft' && m !== 'legacy' && m !== 'nftables')) {
    process.stderr.write('--modes takes nft, legacy (iptables modes) and/or nftables\n');
    process.exit(2);
  }
  const rows: Row[] = [];
  let current: Lab | undefined;
  // A runner's time limit (SIGTERM) must not leave the namespace and its agent behind.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => void (current?.cleanup() ?? Promise.resolve()).finally(() => process.exit(1)));
  }
  for (const mode of modes as BenchMode[]) {
    const lab = new Lab('pl');
    current = lab;
    try {
      const ns = await lab.netns('node');
      const c = lab.track(ns.spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify({ ...base, legacyProbeMs, mode })], { stdio: ['ignore', 'pipe', 'inherit'] }));
      let out = '';
      c.stdout!.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((r) => c.once('exit', r));
      if (code !== 0) throw new Error(`${mode}: the measuring child failed (${code})`);
      rows.push(JSON.parse(out));
    } finally {
      await lab.cleanup();
    }
  }
  process.stdout.write(`minSyncPeriod ${base.minSyncPeriod}, syncPeriod ${base.syncPeriod}, fullSyncPeriod ${base.fullSyncPeriod || "the agent's default"}, ${base.changes} changes at least ${base.gapMs} ms apart, probe every ${base.probeMs} ms (legacy: ${legacyProbeMs > 0 ? `${legacyProbeMs} ms` : 'off'}).\n\n`);
  process.stdout.write(table(rows, values.label!) + '\n');
  if (values.json) writeFileSync(values.json, JSON.stringify({ label: values.label, base, rows }) + '\n');
}

await main();
