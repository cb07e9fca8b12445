// Hostile input for netlet-cni (issue 13): random and mutated network
// configs on stdin and CNI_* environments, through the parsing layers
// (env.ts, config.ts, the IPAM config, the agent socket's wire format) and
// the command dispatcher (run.ts). Properties, for every input:
//   - nothing throws out of runCni, and what a layer throws is its own error
//     (CniError or ConfigError), never a TypeError or a RangeError;
//   - the answer is one CNI error object with a spec code (1, 2, 4, 6, 7),
//     a message and no stack trace, or a VERSION result;
//   - no side effects: the IPAM factory parses its section and then stops the
//     call (nothing is allocated, no kernel work), and nothing is written.
// Time-bounded (about 2 s). The seed is random per run and printed; rerun
// one with NETLET_FUZZ_SEED=<seed>.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../src/base/errors.ts';
import { decodeJson, parseConflist, parseNetConf } from '../../../src/cni/config.ts';
import { COMMANDS, parseEnv } from '../../../src/cni/env.ts';
import type { CniCommand } from '../../../src/cni/env.ts';
import { CniCode, CniError } from '../../../src/cni/errors.ts';
import { runCni } from '../../../src/cni/run.ts';
import { decodeRequest } from '../../../src/cni/server.ts';
import { parseIpamConfig } from '../../../src/ipam/config.ts';

const BUDGET_MS = Number(process.env.NETLET_FUZZ_MS ?? 2000);
const SEED = Number(process.env.NETLET_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: small, seedable, good enough to pick mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(SEED);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

/** n levels of arrays and objects around `leaf` (built bottom up: no recursion to overflow). */
function deep(n: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < n; i++) v = int(2) ? [v] : { a: v };
  return v;
}

/** Values that break parsers: wrong types, edges, huge, control characters, prototype keys. */
function oddValue(): unknown {
  switch (int(24)) {
    case 0: return null;
    case 1: return true;
    case 2: return 0;
    case 3: return -1;
    case 4: return 1e21;
    case 5: return 2 ** 53 + 1;
    case 6: return 0.5;
    case 7: return '';
    case 8: return 'x'.repeat(10_000 + int(50_000));
    case 9: return '\u0000\n\r\t';
    case 10: return '../../../../etc/passwd';
    case 11: return '__proto__';
    case 12: return [];
    case 13: return {};
    case 14: return { __proto__: { polluted: true } };
    case 15: return deep(200 + int(2000), 1);
    case 16: return '10.0.0.0/33';
    case 17: return '::ffff:1.2.3.4/200';
    case 18: return '1.0.0';
    case 19: return pick(['bridge', 'routed', 'podCIDR', 'blocks', 'kubernetes', 'local']);
    case 20: return [oddValue(), oddValue()];
    case 21: return { cidr: oddValue(), blockSize: oddValue() };
    case 22: return '\ud800'; // a lone surrogate
    default: return String.fromCharCode(...Array.from({ length: int(40) }, () => int(0x3000)));
  }
}

const BASES: Record<string, unknown> = {
  bridge: {
    cniVersion: '1.0.0', name: 'netlet', type: 'netlet-cni', mode: 'bridge', bridge: 'netlet0', mtu: 1500, hairpinMode: true,
    ipam: { type: 'netlet-ipam', pools: [{ cidr: '10.244.0.0/16', blockSize: 26, name: 'v4' }, { cidr: 'fd00:10:244::/56' }], dataDir: '/nonexistent/fuzz', lockTimeout: '5s' },
    dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] },
  },
  routed: {
    cniVersion: '1.1.0', name: 'netlet', type: 'netlet-cni', mode: 'routed', nodeName: 'node-a',
    ipam: { type: 'netlet-ipam', mode: 'podCIDR', datastore: 'local', podCIDRs: ['10.244.1.0/24'], dataDir: '/nonexistent/fuzz' },
  },
  kubernetes: {
    cniVersion: '1.0.0', name: 'netlet', type: 'netlet-cni',
    ipam: { type: 'netlet-ipam', datastore: 'kubernetes', kubeconfig: '/nonexistent/kubeconfig', pools: [{ cidr: '10.244.0.0/16' }], dataDir: '/nonexistent/fuzz' },
  },
  check: {
    cniVersion: '1.0.0', name: 'netlet', type: 'netlet-cni', ipam: { pools: [{ cidr: '10.1.0.0/16' }], dataDir: '/nonexistent/fuzz' },
    prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/run/netns/x' }], ips: [{ address: '10.1.0.5/26', gateway: '10.1.0.1', interface: 0 }], routes: [{ dst: '0.0.0.0/0' }] },
  },
  gc: {
    cniVersion: '1.1.0', name: 'netlet', type: 'netlet-cni', ipam: { pools: [{ cidr: '10.1.0.0/16' }], dataDir: '/nonexistent/fuzz' },
    'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }],
  },
};

/** Every (parent, key) of a JSON tree, so a mutation can hit any depth. */
function slots(v: unknown, out: Array<[Record<string, unknown> | unknown[], string | number]> = [], depth = 0): typeof out {
  if (depth > 8 || typeof v !== 'object' || v === null) return out;
  for (const k of Array.isArray(v) ? v.keys() : Object.keys(v)) {
    out.push([v as Record<string, unknown>, k]);
    slots((v as Record<string | number, unknown>)[k], out, depth + 1);
  }
  return out;
}

function mutate(base: unknown): unknown {
  const doc = structuredClone(base);
  for (let n = 1 + int(3); n > 0; n--) {
    const all = slots(doc);
    if (all.length === 0) return oddValue();
    const [parent, key] = pick(all);
    const op = int(5);
    if (op === 0 && !Array.isArray(parent)) delete parent[key as string];
    else if (op === 1 && !Array.isArray(parent)) parent[pick(['__proto__', 'constructor', 'extra', 'ipam', 'toString', ''])] = oddValue();
    else (parent as Record<string | number, unknown>)[key] = oddValue();
  }
  return doc;
}

/** stdin: a mutated config, then sometimes broken as text too. */
function stdin(): string {
  const roll = int(10);
  if (roll === 0) return pick(['', ' ', 'null', '[]', '"x"', '1', '{', '{"cniVersion":', '\u0000', '['.repeat(5000), `${'['.repeat(3000)}${']'.repeat(3000)}`]);
  let text = JSON.stringify(mutate(pick(Object.values(BASES))));
  if (text === undefined) return 'undefined';
  if (roll === 1) text = text.slice(0, int(text.length));
  if (roll === 2) {
    const at = int(text.length);
    text = text.slice(0, at) + String.fromCharCode(int(256)) + text.slice(at + 1);
  }
  return text;
}

/** An environment a runtime would send for a command, so the config's parsing is reached. */
function goodEnv(): Record<string, string> {
  return { CNI_COMMAND: pick(COMMANDS), CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=p', CNI_PATH: '/opt/cni/bin' };
}

/** An environment with some variables unset or odd. */
function env(): Record<string, string> {
  const e: Record<string, string> = {};
  const maybe = (key: string, good: () => string) => {
    const roll = int(6);
    if (roll === 0) return; // unset
    e[key] = roll === 1 ? String(oddValue()) : good();
  };
  maybe('CNI_COMMAND', () => pick([...COMMANDS, 'add', 'del ', 'VERSIONX']));
  maybe('CNI_CONTAINERID', () => pick(['c1', 'abc'.repeat(40), 'a/b', '']));
  maybe('CNI_NETNS', () => pick(['/run/netns/x', '/proc/self/ns/net', '', '/nonexistent']));
  maybe('CNI_IFNAME', () => pick(['eth0', 'net1', 'a'.repeat(16), 'et h0', '../x', '.', '..', 'eth0:1']));
  maybe('CNI_ARGS', () => pick(['K8S_POD_NAMESPACE=default;K8S_POD_NAME=p', 'IgnoreUnknown=1;', '=x', 'novalue', ';;;', 'A=B=C']));
  maybe('CNI_PATH', () => pick(['/opt/cni/bin', ':::', '']));
  return e;
}

const SPEC_CODES = new Set<number>([CniCode.incompatibleVersion, CniCode.unsupportedField, CniCode.invalidEnvironment, CniCode.decodeFailure, CniCode.invalidConfig]);
const SENTINEL = 'fuzz: the config parsed; stopping before any side effect';

/** The IPAM factory of a real call parses its section; here it stops there. */
const createIpam = async (conf: unknown, opts: { nodeName: string }): Promise<never> => {
  parseIpamConfig(conf, { nodeName: opts.nodeName, dataDir: '/nonexistent/fuzz' });
  throw new CniError(CniCode.internal, SENTINEL);
};

/** Runs `fn`; what it throws must be one of `allowed`. Returns a problem description or ''. */
function ownErrorsOnly(fn: () => unknown, allowed: Array<new (...a: never[]) => Error>): string {
  try {
    fn();
    return '';
  } catch (err) {
    return allowed.some((c) => err instanceof c) ? '' : `${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`;
  }
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 400 ? `${s.slice(0, 400)}…(${s.length})` : s;
};

t.test(`fuzz: CNI config and environment (seed ${SEED})`, async (t) => {
  t.comment(`NETLET_FUZZ_SEED=${SEED}`);
  const problems: string[] = [];
  const report = (what: string, input: unknown, problem: string) => {
    if (problem && problems.length < 10) problems.push(`${what}: ${problem}\n  input: ${show(input)}`);
  };
  const deadline = Date.now() + BUDGET_MS;
  let cases = 0;
  let reachedIpam = 0;
  while (Date.now() < deadline && problems.length < 10) {
    cases++;
    const e = int(2) ? env() : goodEnv();
    const text = stdin();

    // The layers one by one.
    report('parseEnv', e, ownErrorsOnly(() => parseEnv(e), [CniError]));
    let raw: unknown;
    report('decodeJson', text, ownErrorsOnly(() => (raw = decodeJson(text)), [CniError]));
    if (raw !== undefined) {
      const command = pick(COMMANDS) as CniCommand;
      report(`parseNetConf ${command}`, raw, ownErrorsOnly(() => parseNetConf(raw, command), [CniError]));
      report('parseConflist', raw, ownErrorsOnly(() => parseConflist({ cniVersion: '1.0.0', name: 'n', plugins: [raw] }), [CniError]));
      const ipam = (raw as { ipam?: unknown } | null)?.ipam;
      report('parseIpamConfig', ipam, ownErrorsOnly(() => parseIpamConfig(ipam, { nodeName: 'n' }), [ConfigError]));
    }
    const wire = Buffer.from(`${Object.entries(e).map(([k, v]) => `${k}=${v}\0`).join('')}${int(4) ? '\0' : ''}${text}`);
    report('decodeRequest', wire.toString(), ownErrorsOnly(() => decodeRequest(wire), [CniError]));
    // The whole dispatcher.
    let out;
    try {
      out = await runCni(e, text, createIpam, { nodeName: 'node-a' });
    } catch (err) {
      report('runCni threw', { env: e, stdin: text }, String((err as Error)?.stack ?? err));
      continue;
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(out.stdout);
    } catch {
      report('stdout is not JSON', { env: e, stdin: text }, out.stdout.slice(0, 200));
      continue;
    }
    if (out.exitCode === 0) {
      if (e.CNI_COMMAND !== 'VERSION' || !Array.isArray(json.supportedVersions)) report('exit 0 without a VERSION result', { env: e, stdin: text }, out.stdout.slice(0, 200));
      continue;
    }
    if (out.exitCode !== 1) report('exit status', { env: e, stdin: text }, String(out.exitCode));
    if (json.msg === SENTINEL) {
      reachedIpam++;
      continue;
    }
    const problem = [
      typeof json.code !== 'number' || !SPEC_CODES.has(json.code) ? `code ${json.code} is not a spec code for bad input` : '',
      typeof json.msg !== 'string' || !json.msg ? 'no msg' : '',
      /\n\s+at |TypeError|RangeError|Cannot read|undefined is not/.test(out.stdout) ? 'a stack trace or an internal error leaks' : '',
      typeof json.cniVersion !== 'string' ? 'no cniVersion' : '',
    ]
      .filter(Boolean)
      .join('; ');
    report('CNI error result', { env: e, stdin: text, stdout: out.stdout.slice(0, 300) }, problem);
  }
  t.comment(`${cases} cases in ${BUDGET_MS} ms, ${reachedIpam} parsed far enough to reach the IPAM factory`);
  t.same(problems, [], `no crash, only CNI errors with spec codes (NETLET_FUZZ_SEED=${SEED})`);
  t.ok(cases > 100, `enough cases ran (${cases})`);
  t.ok(reachedIpam > 0, 'some inputs were valid enough to reach the IPAM factory (the mutations are not all fatal at the first check)');
  t.notOk(existsSync(join('/nonexistent', 'fuzz')), 'nothing was written');
});
