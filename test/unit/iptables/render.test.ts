import t from 'tap';
import { renderFirstSync, ctx4 } from './render-helpers.ts';
import { ep, plan, planSet } from './plans.ts';
import { renderSync, renderSyncSteps } from '../../../src/iptables/render-sync.ts';
import { renderChains, shapeOf } from '../../../src/iptables/render-service.ts';
import { masqueradeMark } from '../../../src/iptables/render-context.ts';
import { missingJumps } from '../../../src/iptables/render-fixed.ts';
import { servicePortChains, svcChain } from '../../../src/iptables/chain-names.ts';

const web = plan('default', 'web', { clusterEndpoints: [ep('10.244.1.2', 8080), ep('10.244.1.3', 8080), ep('10.244.1.4', 8080)] });

t.test('kube-proxy rule text', async (t) => {
  const text = renderFirstSync(planSet(web, plan('default', 'empty', { clusterIP: '10.96.0.12' })));
  const svc = svcChain('default/web:http', 'tcp');
  const rows: [string, string][] = [
    ['cluster IP dispatch', `-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j ${svc}`],
    ['masquerade off-cluster sources', `-A ${svc} -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ`],
    ['first of three endpoints', `-A ${svc} -m comment --comment "default/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.3333333333 -j`],
    ['second of three endpoints', '--probability 0.5000000000 -j KUBE-SEP-'],
    ['reject without endpoints', '-A KUBE-SERVICES -m comment --comment "default/empty:http has no endpoints" -m tcp -p tcp -d 10.96.0.12 --dport 80 -j REJECT'],
    ['mark for masquerade', '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'],
    ['postrouting return', '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN'],
    ['postrouting masquerade', '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully'],
    ['nodeports last', '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS'],
    ['jump from PREROUTING', '-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
    ['jump from filter INPUT with state', '-I INPUT 1 -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'],
    ['hairpin', '-m comment --comment default/web:http -s 10.244.1.2 -j KUBE-MARK-MASQ'],
    ['DNAT', '-m tcp -p tcp -j DNAT --to-destination 10.244.1.2:8080'],
  ];
  for (const [name, want] of rows) t.ok(text.includes(want), `${name}: ${want}`);
  const lastUnconditional = new RegExp(`-A ${svc} -m comment --comment "default/web:http -> 10.244.1.4:8080" -j KUBE-SEP-`);
  t.match(text, lastUnconditional, 'the last endpoint is unconditional');
  t.ok(text.indexOf('*filter') < text.indexOf('*nat'), 'filter then nat');
});

t.test('no endpoint usable here: DROP when the service has endpoints elsewhere (Local policies), REJECT only without any', async (t) => {
  const elsewhere = { hasAnyEndpoints: true };
  const rows: { name: string; over: Parameters<typeof plan>[2]; want: string[]; not: RegExp[] }[] = [
    {
      name: 'internalTrafficPolicy Local, endpoints only on other nodes',
      over: { internalTraffic: 'local', ...elsewhere },
      want: ['-A KUBE-SERVICES -m comment --comment "default/x:http has no local endpoints" -m tcp -p tcp -d 10.96.0.30 --dport 80 -j DROP'],
      not: [/-j REJECT/, /^:KUBE-(SVC|SVL|EXT)-/m],
    },
    {
      name: 'both policies Local, NodePort, endpoints only on other nodes: ClusterIP and NodePort dropped, in-cluster sources still go to the cluster endpoints',
      over: { internalTraffic: 'local', externalTraffic: 'local', nodePort: 30090, clusterEndpoints: [ep('10.244.1.2', 8080)], ...elsewhere },
      want: [
        '-A KUBE-SERVICES -m comment --comment "default/x:http has no local endpoints" -m tcp -p tcp -d 10.96.0.30 --dport 80 -j DROP',
        '-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/x:http has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30090 -j DROP',
        '-A KUBE-NODEPORTS -m comment --comment default/x:http -m tcp -p tcp --dport 30090 -j KUBE-EXT-',
      ],
      not: [/-j REJECT/],
    },
    {
      name: 'internalTrafficPolicy Local, no usable endpoint anywhere',
      over: { internalTraffic: 'local', hasAnyEndpoints: false },
      want: ['-A KUBE-SERVICES -m comment --comment "default/x:http has no endpoints" -m tcp -p tcp -d 10.96.0.30 --dport 80 -j REJECT'],
      not: [/no local endpoints/],
    },
    {
      name: 'externalTrafficPolicy Local, NodePort, no usable endpoint anywhere: both rejected',
      over: { externalTraffic: 'local', nodePort: 30091, hasAnyEndpoints: false },
      want: [
        '-A KUBE-SERVICES -m comment --comment "default/x:http has no endpoints" -m tcp -p tcp -d 10.96.0.30 --dport 80 -j REJECT',
        '-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/x:http has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30091 -j REJECT',
      ],
      not: [/no local endpoints/, /^:KUBE-EXT-/m],
    },
  ];
  for (const row of rows) {
    const text = renderFirstSync(planSet(plan('default', 'x', { clusterIP: '10.96.0.30', ...row.over })));
    for (const want of row.want) t.ok(text.includes(want), `${row.name}: ${want}`);
    for (const not of row.not) t.notMatch(text, not, `${row.name}: no ${not}`);
  }
});

t.test("loadBalancerSourceRanges: the LB IPs as sources are allowed only when the ranges hold the node's IP", async (t) => {
  const lb = (name: string, includeNode: boolean) =>
    plan('default', name, {
      clusterIP: '10.96.0.40',
      loadBalancerIPs: ['192.0.2.50', '192.0.2.51'],
      loadBalancerSourceRanges: ['192.168.1.0/24'],
      loadBalancerSourceRangesIncludeNode: includeNode,
      clusterEndpoints: [ep('10.244.1.2', 8080)],
    });
  const { fw, ext } = servicePortChains('default/lbnode:http', 'tcp');
  const withNode = renderFirstSync(planSet(lb('lbnode', true)));
  const fwRules = withNode.split('\n').filter((l) => l.startsWith(`-A ${fw} `));
  t.same(
    fwRules,
    [
      `-A ${fw} -m comment --comment "default/lbnode:http loadbalancer IP" -s 192.168.1.0/24 -j ${ext}`,
      `-A ${fw} -m comment --comment "default/lbnode:http loadbalancer IP" -s 192.0.2.50 -j ${ext}`,
      `-A ${fw} -m comment --comment "default/lbnode:http loadbalancer IP" -s 192.0.2.51 -j ${ext}`,
      `-A ${fw} -m comment --comment "other traffic to default/lbnode:http will be dropped by KUBE-PROXY-FIREWALL"`,
    ],
    'ranges, then each LB IP as a source, then the fall-through',
  );
  const without = renderFirstSync(planSet(lb('lbother', false)));
  const other = servicePortChains('default/lbother:http', 'tcp');
  t.same(
    without.split('\n').filter((l) => l.startsWith(`-A ${other.fw} `)).map((l) => / -s (\S+)/.exec(l)?.[1] ?? 'end'),
    ['192.168.1.0/24', 'end'],
    'ranges that do not hold the node: no LB IP source rule',
  );
});

t.test('KUBE-PROXY-CANARY: a full sync writes it in mangle, filter and nat; a partial sync leaves it be', async (t) => {
  const plans = planSet(web);
  const base = { ctx: ctx4, staleChains: () => [], missingJumps: { nat: [], filter: [] }, chunkPlans: 0 };
  const full = renderSync({ ...base, plans, rewrite: new Set(plans.keys()), previous: new Map() });
  const text = full.inputs.join('');
  t.match(text, /^\*mangle\n:KUBE-PROXY-CANARY - \[0:0\]\nCOMMIT\n\*filter\n/, 'mangle first, with only the canary');
  t.match(text, /\*filter\n[^*]*:KUBE-PROXY-CANARY - \[0:0\]/, 'in filter');
  t.match(text, /\*nat\n[^*]*:KUBE-PROXY-CANARY - \[0:0\]/, 'in nat');
  const partial = renderSync({ ...base, plans, rewrite: new Set(plans.keys()), previous: full.rendered, previousShared: full.shared });
  t.notMatch(partial.inputs.join(''), /KUBE-PROXY-CANARY|\*mangle/, 'a partial sync does not touch the canaries');
});

t.test('masquerade bit', async (t) => {
  t.equal(masqueradeMark(14), '0x4000');
  t.equal(masqueradeMark(0), '0x1');
  t.equal(masqueradeMark(31), '0x80000000');
});

t.test('above 1,000 endpoints the per-service chains lose their comments', async (t) => {
  const text = renderFirstSync(planSet(web), { ...ctx4, largeCluster: true });
  t.notMatch(text, /-A KUBE-SEP-\S+ -m comment/, 'endpoint chains without comments');
  t.notMatch(text, /-A KUBE-SVC-\S+ -m comment --comment "default\/web:http -> /, 'service chains without endpoint comments');
  t.match(text, /-A KUBE-SERVICES -m comment --comment "default\/web:http cluster IP"/, 'KUBE-SERVICES keeps them, as kube-proxy');
});

t.test('partial render: unchanged plans keep their KUBE-SERVICES rules but not their chains', async (t) => {
  const other = plan('default', 'other', { clusterIP: '10.96.0.20', clusterEndpoints: [ep('10.244.3.3', 80)] });
  const plans = planSet(web, other);
  const first = renderSync({ plans, rewrite: new Set(plans.keys()), previous: new Map(), ctx: ctx4, staleChains: () => [], missingJumps: { nat: [], filter: [] }, chunkPlans: 0 });
  const second = renderSync({
    plans,
    rewrite: new Set(['default/other:http/tcp']),
    previous: first.rendered,
    ctx: ctx4,
    staleChains: () => ['KUBE-SEP-OLD'],
    missingJumps: { nat: [], filter: [] },
    chunkPlans: 0,
  });
  const text = second.inputs.join('');
  t.notMatch(text, new RegExp(`:${svcChain('default/web:http', 'tcp')} `), 'unchanged service chain not written');
  t.match(text, new RegExp(`-j ${svcChain('default/web:http', 'tcp')}`), 'its KUBE-SERVICES rule still is');
  t.match(text, new RegExp(`:${svcChain('default/other:http', 'tcp')} `), 'changed service chain written');
  t.match(text, /:KUBE-SEP-OLD - \[0:0\][\s\S]*-X KUBE-SEP-OLD\nCOMMIT/, 'stale chain flushed, then deleted last');
  t.equal(second.ruleCount, first.ruleCount, 'rule count covers the rules not rewritten');
});

t.test('chunked full sync keeps references valid', async (t) => {
  const plans = planSet(web, plan('default', 'b', { clusterIP: '10.96.0.21', clusterEndpoints: [ep('10.244.3.4', 80)] }));
  const out = renderSync({ plans, rewrite: new Set(plans.keys()), previous: new Map(), ctx: ctx4, staleChains: () => [], missingJumps: { nat: missingJumps('nat', []), filter: [] }, chunkPlans: 1 });
  t.equal(out.inputs.length, 3, 'one restore per plan, then the shared chains');
  t.match(out.inputs[0], /^\*nat\n:KUBE-MARK-MASQ - \[0:0\]/, 'the first chunk brings KUBE-MARK-MASQ');
  t.notMatch(out.inputs[0], /KUBE-SERVICES/, 'chunks do not touch the shared chains');
  t.match(out.inputs[2], /-A KUBE-SERVICES .*cluster IP/, 'the last restore wires them');
});

t.test('a chunk is handed out before the plans after it are rendered (one chunk alive at a time)', async (t) => {
  const plans = planSet(web, plan('default', 'b', { clusterIP: '10.96.0.21', clusterEndpoints: [ep('10.244.3.4', 80)] }));
  const seen: string[] = [];
  // A plan set that notes when the renderer reaches each plan.
  const noting = new Map([...plans].map(([k, p]) => [k, p]));
  const iterate = noting[Symbol.iterator].bind(noting);
  Object.defineProperty(noting, Symbol.iterator, {
    value: function* () {
      for (const entry of iterate()) {
        seen.push(`render ${entry[0]}`);
        yield entry;
      }
    },
  });
  const steps = renderSyncSteps({ plans: noting, rewrite: new Set(plans.keys()), previous: new Map(), ctx: ctx4, staleChains: () => [], missingJumps: { nat: [], filter: [] }, chunkPlans: 1 });
  for (let s = steps.next(); !s.done; s = steps.next()) seen.push(`chunk ${s.value.text.match(/^-A (KUBE-SVC-\S+)/m)?.[1] ?? ''}`);
  const [a, b] = [...plans.keys()];
  t.equal(seen.length, 5, 'two plans, their two chunks, then the shared chains');
  t.strictSame([seen[0], seen[2]], [`render ${a}`, `render ${b}`]);
  t.match(seen[1], /^chunk KUBE-SVC-/, 'the first plan’s chunk comes out before the second plan is rendered');
  const whole = renderSync({ plans, rewrite: new Set(plans.keys()), previous: new Map(), ctx: ctx4, staleChains: () => [], missingJumps: { nat: [], filter: [] }, chunkPlans: 1 });
  const again = renderSyncSteps({ plans, rewrite: new Set(plans.keys()), previous: new Map(), ctx: ctx4, staleChains: () => [], missingJumps: { nat: [], filter: [] }, chunkPlans: 1 });
  const texts: string[] = [];
  let last = again.next();
  for (; !last.done; last = again.next()) texts.push(last.value.text);
  t.strictSame([...texts, ...last.value.inputs], whole.inputs, 'the same inputs, in the same order, as rendering all at once');
});

t.test('partial render leaves out shared chains whose rules did not change', async (t) => {
  const other = plan('default', 'other', { clusterIP: '10.96.0.20', clusterEndpoints: [ep('10.244.3.3', 80)] });
  const plans = planSet(web, other);
  const base = { ctx: ctx4, staleChains: () => [], missingJumps: { nat: [], filter: [] }, chunkPlans: 0 };
  const first = renderSync({ ...base, plans, rewrite: new Set(plans.keys()), previous: new Map() });
  // An endpoint of "other" moves: its own chains change, KUBE-SERVICES does not.
  const moved = plan('default', 'other', { clusterIP: '10.96.0.20', clusterEndpoints: [ep('10.244.3.4', 80)] });
  plans.set('default/other:http/tcp', moved);
  const second = renderSync({ ...base, plans, rewrite: new Set(['default/other:http/tcp']), previous: first.rendered, previousShared: first.shared });
  const text = second.inputs.join('');
  t.notMatch(text, /:KUBE-SERVICES /, 'KUBE-SERVICES not rewritten');
  t.notMatch(text, /\*filter/, 'filter table not touched');
  t.match(text, /--to-destination 10\.244\.3\.4:80/, 'the new endpoint chain is written');
  // A new service changes KUBE-SERVICES: then it is written whole.
  const added = plan('default', 'added', { clusterIP: '10.96.0.30', clusterEndpoints: [ep('10.244.3.5', 80)] });
  plans.set('default/added:http/tcp', added);
  const third = renderSync({ ...base, plans, rewrite: new Set(['default/added:http/tcp']), previous: second.rendered, previousShared: second.shared });
  const text3 = third.inputs.join('');
  t.match(text3, /:KUBE-SERVICES /, 'KUBE-SERVICES rewritten');
  t.equal(text3.match(/^-A KUBE-SERVICES .*cluster IP/gm)?.length, 3, 'with every service in it');
  const nothing = renderSync({ ...base, plans, rewrite: new Set(), previous: third.rendered, previousShared: third.shared });
  t.equal(nothing.inputs.length, 0, 'nothing changed: no restore at all');
});

t.test('KUBE-SEP names are kube-proxy\'s even when an endpoint object is seen again', async (t) => {
  const { sepChain } = await import('../../../src/iptables/chain-names.ts');
  const shared = ep('10.244.9.9', 8080);
  const a = plan('default', 'alpha', { clusterIP: '10.96.9.1', clusterEndpoints: [shared] });
  const b = plan('default', 'beta', { clusterIP: '10.96.9.2', clusterEndpoints: [shared] });
  const sepOf = (text: string, spn: string) => new RegExp(`-A ${sepChain(spn, 'tcp', '10.244.9.9:8080')} `).test(text);
  for (const round of ['first render', 'second render (remembered name)']) {
    const alpha = renderFirstSync(planSet(a));
    const beta = renderFirstSync(planSet(b));
    t.ok(sepOf(alpha, a.servicePortName), `${round}: alpha's endpoint chain`);
    t.ok(sepOf(beta, b.servicePortName), `${round}: beta's endpoint chain, not alpha's`);
  }
});

t.test('a streamed full sync (legacy): written as rendered, every chain declared before it is used', async (t) => {
  const many = Array.from({ length: 250 }, (_, i) =>
    plan('default', `s${i}`, { clusterIP: `10.96.1.${i}`, nodePort: i % 50 === 0 ? 30000 + i : 0, clusterEndpoints: [ep(`10.244.4.${i}`, 80), ep(`10.244.5.${i}`, 80)] }),
  );
  const plans = planSet(...many);
  const base = { plans, rewrite: new Set(plans.keys()), previous: new Map(), ctx: ctx4, missingJumps: { nat: missingJumps('nat', []), filter: missingJumps('filter', []) }, chunkPlans: 0 };
  const staleChains = () => ['KUBE-SVC-GONE', 'KUBE-SEP-GONE'];
  let rendered = 0;
  const counting = new Map(plans);
  const iterate = counting[Symbol.iterator].bind(counting);
  Object.defineProperty(counting, Symbol.iterator, {
    value: function* () {
      for (const entry of iterate()) {
        rendered++;
        yield entry;
      }
    },
  });
  const steps = renderSyncSteps({ ...base, plans: counting, staleChains, stream: true });
  const pieces: { text: string; ends: boolean; renderedBefore: number }[] = [];
  let last = steps.next();
  for (; !last.done; last = steps.next()) pieces.push({ ...last.value, renderedBefore: rendered });
  t.equal(last.value.inputs.length, 0, 'nothing left for a separate restore');
  t.ok(pieces.length >= 4, `in pieces (${pieces.length})`);
  t.ok(pieces[1].renderedBefore < plans.size, 'the first plans are handed out before the last is rendered');
  t.same(pieces.map((p) => p.ends), [...pieces.slice(1).map(() => false), true], 'one restore: only the last piece ends it');
  t.ok(pieces.every((p) => p.text.endsWith('\n')), 'every piece ends with a newline');

  const text = pieces.map((p) => p.text).join('');
  t.match(text, /^\*nat\n:KUBE-MARK-MASQ - \[0:0\]\n-A KUBE-MARK-MASQ /, 'KUBE-MARK-MASQ first');
  t.match(text, /:KUBE-SVC-GONE - \[0:0\]\n:KUBE-SEP-GONE - \[0:0\][\s\S]*-X KUBE-SVC-GONE\n-X KUBE-SEP-GONE\nCOMMIT\n\*filter\n[\s\S]*COMMIT\n\*mangle\n:KUBE-PROXY-CANARY - \[0:0\]\nCOMMIT\n$/, 'stale chains flushed, then deleted at the end of nat; then filter, then mangle');
  // A rule may only name chains declared before it in its table (or built in).
  const builtins = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);
  let declared = new Set<string>();
  const unknown: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) declared = new Set();
    else if (line.startsWith(':')) declared.add(line.slice(1).split(' ')[0]);
    else if (line.startsWith('-A ') || line.startsWith('-X ')) {
      const chain = line.split(' ')[1];
      const jump = / -j (KUBE-\S+)/.exec(line)?.[1];
      for (const c of [chain, jump]) if (c && !builtins.has(c) && !declared.has(c)) unknown.push(line);
    }
  }
  t.same(unknown, [], 'no rule names a chain before its declaration');

  const whole = renderSync({ ...base, staleChains });
  const sorted = (s: string) => s.split('\n').filter((l) => l !== '').sort();
  t.same(sorted(text), sorted(whole.inputs.join('')), 'the same lines as the input rendered whole');
  const again = renderSync({ ...base, staleChains, stream: true });
  t.equal(again.inputs.join(''), text, 'renderSync joins the pieces into that one input');
  t.equal(again.writtenRules, whole.writtenRules, 'rules written counted once');
  t.equal(again.ruleCount, whole.ruleCount);
});

t.test('a full render keeps the earlier render of a plan that renders the same (reuse)', async (t) => {
  const other = plan('default', 'other', { clusterIP: '10.96.0.20', clusterEndpoints: [ep('10.244.3.3', 80)] });
  const plans = planSet(web, other);
  const base = { rewrite: new Set(plans.keys()), previous: new Map(), ctx: ctx4, staleChains: () => [], missingJumps: { nat: [], filter: [] }, chunkPlans: 0 };
  const first = renderSync({ ...base, plans });
  const moved = plan('default', 'other', { clusterIP: '10.96.0.20', clusterEndpoints: [ep('10.244.3.4', 80)] });
  const next = planSet(web, moved);
  const again = renderSync({ ...base, plans: next, reuse: first.rendered });
  const [webKey, otherKey] = [...next.keys()];
  t.equal(again.rendered.get(webKey), first.rendered.get(webKey), 'unchanged plan: the same object as before');
  t.not(again.rendered.get(otherKey), first.rendered.get(otherKey), 'changed plan: a new render');
  t.notSame(again.rendered.get(otherKey)!.chains, first.rendered.get(otherKey)!.chains, 'with its new endpoint chain');
  const fresh = renderSync({ ...base, plans: next });
  t.equal(again.inputs.join(''), fresh.inputs.join(''), 'and the same text as without reuse');
});

t.test("rendering the same plan again takes its earlier KUBE-SEP names, in its endpoints' order", async (t) => {
  const p = plan('default', 'named', { clusterIP: '10.96.0.30', clusterEndpoints: [ep('10.244.6.1', 80), ep('10.244.6.2', 80)] });
  const own = renderChains(shapeOf(p), ctx4, ['KUBE-SVC-WHATEVER', 'KUBE-SEP-EARLIER1', 'KUBE-SEP-EARLIER2']);
  t.same(own.chains.filter((c) => c.startsWith('KUBE-SEP-')), ['KUBE-SEP-EARLIER1', 'KUBE-SEP-EARLIER2']);
  t.match(own.rules.join('\n'), /-j KUBE-SEP-EARLIER1\n.*-j KUBE-SEP-EARLIER2/);
  const fresh = renderChains(shapeOf(p), ctx4);
  t.same(renderChains(shapeOf(p), ctx4, fresh.chains), fresh, 'given its own earlier chains, the same render');
});
