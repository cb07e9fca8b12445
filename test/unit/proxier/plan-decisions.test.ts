// The plan's decisions (plan.ts: externallyAccessible, internalTraffic,
// externalTraffic, noEndpoints, externalEntry, firewall), one named row per
// case, through buildPlans as the proxier makes them. Every renderer only
// writes these down, so this table is where the policy is proven.
import t from 'tap';
import { buildPlans } from '../../../src/proxier/plan-builder.ts';
import type { ServicePortPlan } from '../../../src/proxier/plan.ts';
import type { EndpointSlice, Service } from '../../../src/k8s/objects.ts';
import { endpoint, endpointSlice, service, servicePort } from '../../helpers/objects.ts';

type Decisions = Pick<ServicePortPlan, 'externallyAccessible' | 'internalTraffic' | 'externalTraffic' | 'noEndpoints' | 'externalEntry' | 'firewall'>;

interface Row {
  name: string;
  svc: Service;
  slices?: EndpointSlice[];
  /** Only the decisions that matter to the row. */
  want: Partial<Decisions>;
}

const NODE = 'node-a';
const here = (ip: string, over = {}) => endpoint(ip, { nodeName: NODE, ...over });
const there = (ip: string, over = {}) => endpoint(ip, { nodeName: 'node-b', ...over });
const slice = (svc: string, eps: ReturnType<typeof endpoint>[]) => endpointSlice('ns', svc, `${svc}-1`, eps);
const nodePort = (name: string, over: Partial<Service> = {}) => service('ns', name, { type: 'NodePort', ports: [servicePort({ nodePort: 30080 })], ...over });
const loadBalancer = (name: string, over: Partial<Service> = {}) =>
  service('ns', name, { type: 'LoadBalancer', ports: [servicePort({ nodePort: 30090 })], loadBalancerIngressIPs: ['203.0.113.7'], ...over });
const notReady = { ready: false, serving: false };

const rows: Row[] = [
  // externallyAccessible
  { name: 'externallyAccessible: not for a ClusterIP service', svc: service('ns', 'cip'), want: { externallyAccessible: false } },
  { name: 'externallyAccessible: a NodePort', svc: nodePort('np'), want: { externallyAccessible: true } },
  { name: 'externallyAccessible: external IPs alone', svc: service('ns', 'eip', { externalIPs: ['192.0.2.1'] }), want: { externallyAccessible: true } },
  { name: 'externallyAccessible: load balancer IPs', svc: loadBalancer('lb'), want: { externallyAccessible: true } },
  {
    name: 'externallyAccessible: not by external IPs of the other family only',
    svc: service('ns', 'eip6', { externalIPs: ['2001:db8::1'] }),
    want: { externallyAccessible: false },
  },

  // internalTraffic / externalTraffic
  { name: 'internalTraffic: cluster by default', svc: service('ns', 'itpc'), want: { internalTraffic: 'cluster' } },
  { name: 'internalTraffic: local for internalTrafficPolicy Local', svc: service('ns', 'itpl', { internalTrafficPolicy: 'Local' }), want: { internalTraffic: 'local' } },
  { name: 'externalTraffic: cluster by default', svc: nodePort('etpc'), want: { externalTraffic: 'cluster' } },
  { name: 'externalTraffic: local for externalTrafficPolicy Local on a NodePort', svc: nodePort('etpl', { externalTrafficPolicy: 'Local' }), want: { externalTraffic: 'local' } },
  {
    name: 'externalTraffic: cluster for externalTrafficPolicy Local on a service not externally accessible',
    svc: service('ns', 'etpcip', { externalTrafficPolicy: 'Local' }),
    want: { externalTraffic: 'cluster', externallyAccessible: false },
  },

  // noEndpoints
  {
    name: 'noEndpoints: none for both when both endpoint sets have endpoints',
    svc: nodePort('ok', { externalTrafficPolicy: 'Local' }),
    slices: [slice('ok', [here('10.1.0.1'), there('10.1.0.2')])],
    want: { noEndpoints: { internal: 'none', external: 'none' } },
  },
  {
    name: 'noEndpoints: reject internal traffic of a ClusterIP service without endpoints; no external traffic to act on',
    svc: service('ns', 'empty'),
    want: { noEndpoints: { internal: 'reject', external: 'none' } },
  },
  {
    name: 'noEndpoints: reject both for a NodePort without any usable endpoint',
    svc: nodePort('down'),
    slices: [slice('down', [there('10.1.0.2', notReady)])],
    want: { noEndpoints: { internal: 'reject', external: 'reject' } },
  },
  {
    name: 'noEndpoints: reject both for a Local NodePort without any usable endpoint',
    svc: nodePort('downlocal', { externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local' }),
    want: { noEndpoints: { internal: 'reject', external: 'reject' } },
  },
  {
    name: 'noEndpoints: drop internal traffic when internalTrafficPolicy Local has endpoints only on other nodes',
    svc: service('ns', 'itpelsewhere', { internalTrafficPolicy: 'Local' }),
    slices: [slice('itpelsewhere', [there('10.1.0.2')])],
    want: { noEndpoints: { internal: 'drop', external: 'none' } },
  },
  {
    name: 'noEndpoints: drop external traffic when externalTrafficPolicy Local has endpoints only on other nodes; internal traffic reaches them',
    svc: nodePort('etpelsewhere', { externalTrafficPolicy: 'Local' }),
    slices: [slice('etpelsewhere', [there('10.1.0.2')])],
    want: { noEndpoints: { internal: 'none', external: 'drop' } },
  },
  {
    name: 'noEndpoints: a serving+terminating endpoint elsewhere makes it drop, not reject',
    svc: service('ns', 'itpterm', { internalTrafficPolicy: 'Local' }),
    slices: [slice('itpterm', [there('10.1.0.3', { ready: false, serving: true, terminating: true })])],
    want: { noEndpoints: { internal: 'drop', external: 'none' } },
  },

  // externalEntry
  {
    name: 'externalEntry: a NodePort with endpoints',
    svc: nodePort('entry'),
    slices: [slice('entry', [there('10.1.0.2')])],
    want: { externalEntry: true },
  },
  {
    name: 'externalEntry: a Local NodePort with endpoints only elsewhere still has it (pods and the node short-circuit to the cluster endpoints)',
    svc: nodePort('entryelsewhere', { externalTrafficPolicy: 'Local' }),
    slices: [slice('entryelsewhere', [there('10.1.0.2')])],
    want: { externalEntry: true },
  },
  { name: 'externalEntry: not for a NodePort without any usable endpoint', svc: nodePort('noentry'), want: { externalEntry: false } },
  {
    name: 'externalEntry: not for a ClusterIP service, even with endpoints',
    svc: service('ns', 'cipentry'),
    slices: [slice('cipentry', [there('10.1.0.2')])],
    want: { externalEntry: false },
  },

  // firewall
  {
    name: 'firewall: load balancer IPs with source ranges and endpoints',
    svc: loadBalancer('fw', { loadBalancerSourceRanges: ['198.51.100.0/24'] }),
    slices: [slice('fw', [there('10.1.0.2')])],
    want: { firewall: true, externalEntry: true },
  },
  {
    name: 'firewall: not without any usable endpoint (noEndpoints rejects instead)',
    svc: loadBalancer('fwdown', { loadBalancerSourceRanges: ['198.51.100.0/24'] }),
    want: { firewall: false, noEndpoints: { internal: 'reject', external: 'reject' } },
  },
  {
    name: 'firewall: not without source ranges',
    svc: loadBalancer('nofw'),
    slices: [slice('nofw', [there('10.1.0.2')])],
    want: { firewall: false },
  },
  {
    name: 'firewall: not for source ranges without load balancer IPs',
    svc: nodePort('rangesonly', { loadBalancerSourceRanges: ['198.51.100.0/24'] }),
    slices: [slice('rangesonly', [there('10.1.0.2')])],
    want: { firewall: false },
  },
  {
    name: 'firewall: not when the ranges are all of the other family',
    svc: loadBalancer('fw6', { loadBalancerSourceRanges: ['2001:db8::/32'] }),
    slices: [slice('fw6', [there('10.1.0.2')])],
    want: { firewall: false },
  },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const plans = buildPlans(row.svc, row.slices ?? [], 4, { nodeName: NODE, node: undefined, masqueradeAll: false, clusterCIDRs: [] });
    t.equal(plans.length, 1, 'one plan');
    for (const [field, value] of Object.entries(row.want)) t.same(plans[0][field as keyof Decisions], value, field);
  });
}
