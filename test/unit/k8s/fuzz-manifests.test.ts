// Issue 13 (point 5): hostile and broken input, permanently. Random
// mutations of valid objects (names with control characters, quotes and
// newlines, huge strings, wrong types, missing fields) and of YAML text
// (aliases, circular aliases, bombs, cut and flipped bytes) go through the
// converters, the manifest loader and the snapshot reader. Properties: no
// crash (only the errors each layer documents), each bad object refused
// alone with an error naming it, every good object kept, and whatever is
// kept safe to write into rules. Bounded in time; the seed is printed, and
// NETLET_FUZZ_SEED replays a run.

import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidObjectError } from '../../../src/base/errors.ts';
import { convertObject } from '../../../src/k8s/convert/index.ts';
import { checkSlim } from '../../../src/k8s/convert/slim.ts';
import { ManifestSyntaxError, parseManifests } from '../../../src/k8s/manifest-files.ts';
import { readSnapshot, SnapshotError } from '../../../src/k8s/snapshot.ts';
import type { AnyObject, Kind } from '../../../src/k8s/objects.ts';
import { harness, keys, LEVEL } from './manifests-helpers.ts';
import { buildPlans } from '../../../src/proxier/plan-builder.ts';
import type { EndpointSlice, Service } from '../../../src/k8s/objects.ts';
import { renderFirstSync } from '../iptables/render-helpers.ts';
import { planSet } from '../iptables/plans.ts';

const SEED = Number(process.env.NETLET_FUZZ_SEED ?? Date.now() % 2 ** 31);
t.comment(`fuzz seed ${SEED} (replay with NETLET_FUZZ_SEED=${SEED})`);
const BUDGET_MS = Number(process.env.NETLET_FUZZ_MS ?? 800);

/** mulberry32: small, seeded, good enough to pick mutations. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}
const random = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];

const HOSTILE_STRINGS = [
  'y\nCOMMIT\n*filter\n-A INPUT -s 6.6.6.7/32 -j ACCEPT\nCOMMIT\n*nat\n#',
  'a b', 'a"b', "a'b", 'a\\b', '$(reboot)', '`id`', 'a;b', '\u0000', '\r', '\t', '\u2028', 'ä', '😀', '-', 'a-', '-a', '.', 'a..b',
  'A', '1', '', ' ', 'fe80::5%eth0', '10.0.0.1%eth0', '10.0.0.300', '::', '0.0.0.0/0', '10.0.0.0/33', 'x'.repeat(64), 'x'.repeat(10_000),
  '"', '#', '*', '&a', '*a', '<<', '{}', '[]', 'null', 'true', '0x10', '1e3', '-1', '65536',
];
const HOSTILE_VALUES: unknown[] = [null, 0, -1, 1.5, 65536, 1e300, true, false, [], {}, [null], { a: 1 }, 'x'.repeat(100_000)];

/** Valid raw objects of each kind, named `name`. */
function validRaw(kind: Kind, name: string, i: number): Record<string, unknown> {
  const ns = 'shop';
  switch (kind) {
    case 'Service':
      return { apiVersion: 'v1', kind, metadata: { name, namespace: ns, labels: { app: 'web' } }, spec: { clusterIP: `10.96.${i >> 8 & 255}.${i & 255}`, ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'dns', port: 53, protocol: 'UDP' }], externalIPs: ['192.0.2.1'], sessionAffinity: 'ClientIP' } };
    case 'EndpointSlice':
      return { apiVersion: 'discovery.k8s.io/v1', kind, metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: [`10.244.${i >> 8 & 255}.${i & 255}`], conditions: { ready: true }, nodeName: 'node-1', hostname: 'h', targetRef: { kind: 'Pod', name: 'p', namespace: ns } }] };
    case 'Node':
      return { apiVersion: 'v1', kind, metadata: { name, labels: { 'topology.kubernetes.io/zone': 'z1' } }, spec: { podCIDR: '10.244.0.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.1.1' }], conditions: [{ type: 'Ready', status: 'True' }] } };
    case 'Pod':
      return { apiVersion: 'v1', kind, metadata: { name, namespace: ns }, spec: { nodeName: 'node-1', hostname: 'h', subdomain: 's' }, status: { podIP: '10.244.1.2', phase: 'Running' } };
    case 'Namespace':
      return { apiVersion: 'v1', kind, metadata: { name } };
    case 'IPAMBlock':
      return { apiVersion: 'netlet.io/v1', kind, metadata: { name }, spec: { cidr: '10.244.0.0/26', node: 'node-1', pool: 'default' } };
    case 'BGPConfiguration':
      return { apiVersion: 'netlet.io/v1', kind, metadata: { name }, spec: { asNumber: 64512, nodeToNodeMeshEnabled: false, listenPort: 179, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] } };
    case 'BGPPeer':
      return { apiVersion: 'netlet.io/v1', kind, metadata: { name }, spec: { peerIP: '192.0.2.1:1179', asNumber: 65001, nodeSelector: "rack == 'a' && has(x)", holdTime: '90s', password: { secretKeyRef: { name: 's', key: 'k' } } } };
    case 'ServiceImport':
      return { apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind, metadata: { name, namespace: ns }, spec: { type: 'ClusterSetIP', ips: [`10.97.${i >> 8 & 255}.${i & 255}`], ports: [{ name: 'http', port: 80 }] } };
  }
}

const KINDS: Kind[] = ['Service', 'EndpointSlice', 'Node', 'Pod', 'Namespace', 'IPAMBlock', 'BGPConfiguration', 'BGPPeer', 'ServiceImport'];

/** Every path to a leaf (or a container) of `v`. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (at.length > 0) out.push(at);
  if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) paths(c, [...at, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

/** A deep copy of `raw` with 1-3 random changes (never to apiVersion/kind: the object must still reach its converter). */
function mutate(raw: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(raw);
  const n = 1 + Math.floor(random() * 3);
  for (let m = 0; m < n; m++) {
    const all = paths(copy).filter((p) => p[0] !== 'apiVersion' && p[0] !== 'kind');
    if (all.length === 0) break;
    const path = pick(all);
    let parent: Record<string | number, unknown> = copy;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const last = path[path.length - 1];
    const r = random();
    if (r < 0.5) parent[last] = pick(HOSTILE_STRINGS);
    else if (r < 0.8) parent[last] = structuredClone(pick(HOSTILE_VALUES));
    else if (r < 0.9) delete parent[last];
    else parent[last] = `${String(parent[last])}${pick(HOSTILE_STRINGS)}`;
  }
  return copy;
}

/** What a kept object must be: its names valid (checkSlim), nothing to break rule text. */
function assertKeepable(t: Tap.Test, obj: AnyObject, what: string): void {
  try {
    checkSlim(obj);
  } catch (err) {
    t.fail(`${what}: a converted object breaks the slim rules: ${(err as Error).message}`);
  }
}

import type * as Tap from 'tap';

t.test('converters: a mutated object converts or is refused with an InvalidObjectError naming it; never anything else', async (t) => {
  const end = performance.now() + BUDGET_MS;
  let runs = 0;
  let refused = 0;
  while (performance.now() < end) {
    const kind = pick(KINDS);
    const raw = mutate(validRaw(kind, `obj-${runs}`, runs));
    runs++;
    let obj: AnyObject;
    try {
      obj = convertObject(kind, raw);
    } catch (err) {
      if (!(err instanceof InvalidObjectError)) {
        t.fail(`${kind} ${JSON.stringify(raw).slice(0, 300)} threw ${(err as Error)?.stack}`);
        break;
      }
      refused++;
      if (err.kind !== kind || err.message.includes('\n') || err.message.length > 1000) {
        t.fail(`error does not name the object on one short line: ${JSON.stringify(err.message.slice(0, 200))}`);
        break;
      }
      continue;
    }
    assertKeepable(t, obj, `${kind} ${JSON.stringify(raw).slice(0, 200)}`);
  }
  t.ok(runs > 100, `${runs} objects (${refused} refused)`);
});

t.test('YAML text: mutated, aliased or cut text parses or fails with a ManifestSyntaxError; never anything else', async (t) => {
  const end = performance.now() + BUDGET_MS;
  let runs = 0;
  const SNIPPETS = ['&a ', '*a', '*b', '&a [*a]', '<<: *a', '!!binary', '!tag ', '? ', '- ', ': ', '{', '[', '"', "'", '\t', '%YAML 1.1\n', '---\n', '...\n', '\u0000', '\ufeff', '#'];
  const base = [validRaw('Service', 'web', 1), validRaw('EndpointSlice', 'web-1', 2)].map((o) => JSON.stringify(o)).join('\n---\n');
  while (performance.now() < end) {
    runs++;
    let text = base;
    const n = 1 + Math.floor(random() * 4);
    for (let m = 0; m < n; m++) {
      const at = Math.floor(random() * text.length);
      const r = random();
      if (r < 0.6) text = text.slice(0, at) + pick(SNIPPETS) + text.slice(at);
      else if (r < 0.8) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 20));
      else text = text.slice(0, at);
    }
    if (random() < 0.1) text = `a: &a ["x","x"]\nb: &b [${Array(50).fill('*a').join(',')}]\nc: [${Array(50).fill('*b').join(',')}]\n---\n${text}`;
    try {
      parseManifests('fuzz.yaml', text);
    } catch (err) {
      if (!(err instanceof ManifestSyntaxError)) {
        t.fail(`${JSON.stringify(text.slice(0, 300))} threw ${(err as Error)?.stack}`);
        break;
      }
    }
  }
  t.ok(runs > 50, `${runs} texts`);
});

t.test('manifest folder: each bad document is refused alone and named; every good one is served', async (t) => {
  const h = await harness(t, { start: false });
  const file = join(h.dir, 'fuzz.yaml');
  await writeFile(file, '');
  await h.source.start();
  const end = performance.now() + BUDGET_MS;
  let runs = 0;
  while (performance.now() < end) {
    runs++;
    // Good Services g-<run>-<i> and mutated objects of every kind, shuffled.
    const docs: { raw: unknown; good: boolean }[] = [];
    for (let i = 0; i < 4; i++) docs.push({ raw: validRaw('Service', `g-${runs}-${i}`, i), good: true });
    for (let i = 0; i < 4; i++) docs.push({ raw: mutate(validRaw(pick(KINDS), `m-${runs}-${i}`, i)), good: false });
    docs.sort(() => random() - 0.5);
    // JSON documents are YAML: each one on its own line after '---'.
    await writeFile(file, docs.map((d) => `---\n${JSON.stringify(d.raw)}\n`).join(''));
    const linesBefore = h.lines.length;
    await h.source.rescan();
    const served = new Set(keys(h.store, 'Service'));
    for (const d of docs.filter((x) => x.good)) {
      const name = (d.raw as { metadata: { name: string } }).metadata.name;
      if (!served.has(`shop/${name}`)) t.fail(`good Service ${name} not served (seed ${SEED})`);
    }
    const warned = new Set(h.lines.slice(linesBefore).filter((l) => l.level >= LEVEL.warn && l.file === 'fuzz.yaml').map((l) => l.document));
    docs.forEach((d, document) => {
      if (d.good) return;
      const kind = (d.raw as { kind: Kind }).kind;
      const name = (d.raw as { metadata?: { name?: unknown } }).metadata?.name;
      const kept = typeof name === 'string' && [...h.store.list(kind)].some((o) => o.meta.name === name);
      if (kept) {
        for (const o of h.store.list(kind)) if (o.meta.name === name) assertKeepable(t, o, `${kind} ${name}`);
      } else if (!warned.has(document)) {
        // A mutation can leave a valid object under another key (e.g. a changed namespace); only an object nowhere must be named.
        const anywhere = [...h.store.list(kind)].some((o) => JSON.stringify(o).includes(`m-${runs}-`));
        if (!anywhere) t.fail(`document ${document} (${kind}) was dropped without a warning naming it: ${JSON.stringify(d.raw).slice(0, 200)}`);
      }
    });
  }
  t.ok(runs > 5, `${runs} folder versions`);
});

t.test('snapshot: a mutated object is refused alone (or the file as damaged); never a crash', async (t) => {
  const h = await harness(t, { start: false });
  const end = performance.now() + BUDGET_MS;
  let runs = 0;
  while (performance.now() < end) {
    runs++;
    const objects: AnyObject[] = KINDS.map((k, i) => convertObject(k, validRaw(k, `s-${i}`, i)));
    const mutated = structuredClone(objects).map((o, i) => (i % 2 === 0 ? (mutate(o as unknown as Record<string, unknown>) as unknown as AnyObject) : o));
    const file = join(h.dir, `snap-${runs}.json`);
    await writeFile(file, JSON.stringify({ format: 'netlet-snapshot', version: 1, savedAt: new Date().toISOString(), count: mutated.length, objects: mutated }));
    try {
      const snap = await readSnapshot(file);
      t.equal(snap.objects.length + snap.rejected.length, mutated.length, 'every object read or refused');
      for (const o of snap.objects) assertKeepable(t, o, `${o.kind} ${o.meta.name}`);
      for (let i = 1; i < mutated.length; i += 2) {
        if (!snap.objects.some((o) => o.kind === mutated[i].kind && o.meta.name === mutated[i].meta.name)) t.fail(`the untouched ${mutated[i].kind} was not read`);
      }
    } catch (err) {
      if (!(err instanceof SnapshotError) || err.code !== 'ERR_SNAPSHOT_CORRUPT') {
        t.fail(`threw ${(err as Error)?.stack}`);
        break;
      }
    }
  }
  t.ok(runs > 20, `${runs} snapshots`);
});

t.test('whatever conversion keeps, the proxier plans and iptables renders without refusing it', async (t) => {
  const end = performance.now() + BUDGET_MS;
  let runs = 0;
  let rendered = 0;
  const ctx = { nodeName: 'node-1', node: undefined, masqueradeAll: false, clusterCIDRs: ['10.244.0.0/16'] };
  while (performance.now() < end) {
    runs++;
    const rawSvc = validRaw('Service', 'web', runs);
    const rawSlice = validRaw('EndpointSlice', 'web-1', runs);
    let svc: Service;
    let slice: EndpointSlice;
    try {
      svc = convertObject('Service', random() < 0.5 ? mutate(rawSvc) : rawSvc);
      slice = convertObject('EndpointSlice', random() < 0.5 ? mutate(rawSlice) : rawSlice);
    } catch (err) {
      if (!(err instanceof InvalidObjectError)) throw err;
      continue;
    }
    for (const family of [4, 6] as const) {
      const plans = buildPlans(svc, [slice], family, ctx);
      if (plans.length === 0) continue;
      try {
        renderFirstSync(planSet(...plans), { family, masqMark: '0x4000', nodePortAddresses: [], tcpBeLiberal: false, largeCluster: false });
        rendered++;
      } catch (err) {
        t.fail(`a converted object the renderer refuses: ${(err as Error).message} (seed ${SEED})`);
        return;
      }
    }
  }
  t.ok(rendered > 10, `${rendered} renders of ${runs} mutated pairs`);
});
