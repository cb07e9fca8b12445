import t from 'tap';
import { convertLeanPod, converterFor, convertPod } from '../../../src/k8s/convert/index.ts';
import { InvalidObjectError } from '../../../src/base/errors.ts';

// The lean Pod (convert/lean.ts) keeps what `pods verified` reads: namespace,
// name and the IPs; the rest holds empty values (no uid, no resourceVersion).
const rawPod = (over: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-0', namespace: 'kube-system', uid: '9f1c0c8e-1111-4222-8333-444455556666', resourceVersion: '812' },
  spec: { nodeName: 'n1', hostname: 'web-0', subdomain: 'web', hostNetwork: false },
  status: { phase: 'Running', podIP: '10.64.0.7', podIPs: [{ ip: '10.64.0.7' }, { ip: 'fd00::7' }] },
  ...over,
});

const rows: { name: string; raw: unknown; want: unknown }[] = [
  {
    name: 'dual-stack pod: names and both IPs kept; uid, resourceVersion, node, phase, hostname dropped',
    raw: rawPod(),
    want: {
      kind: 'Pod', meta: { namespace: 'kube-system', name: 'web-0', uid: '', resourceVersion: '' },
      nodeName: '', podIPs: ['10.64.0.7', 'fd00::7'], hostNetwork: false, phase: '', hostname: '', subdomain: '',
    },
  },
  {
    name: 'only status.podIP (older API servers): that IP',
    raw: rawPod({ status: { podIP: '10.64.0.8' } }),
    want: {
      kind: 'Pod', meta: { namespace: 'kube-system', name: 'web-0', uid: '', resourceVersion: '' },
      nodeName: '', podIPs: ['10.64.0.8'], hostNetwork: false, phase: '', hostname: '', subdomain: '',
    },
  },
  {
    name: 'pending pod without namespace: default namespace, no IPs',
    raw: { metadata: { name: 'p' }, status: { phase: 'Pending' } },
    want: {
      kind: 'Pod', meta: { namespace: 'default', name: 'p', uid: '', resourceVersion: '' },
      nodeName: '', podIPs: [], hostNetwork: false, phase: '', hostname: '', subdomain: '',
    },
  },
  {
    name: 'fields it does not keep are not validated (a bad spec.hostNetwork)',
    raw: rawPod({ spec: { hostNetwork: 'yes' } }),
    want: {
      kind: 'Pod', meta: { namespace: 'kube-system', name: 'web-0', uid: '', resourceVersion: '' },
      nodeName: '', podIPs: ['10.64.0.7', 'fd00::7'], hostNetwork: false, phase: '', hostname: '', subdomain: '',
    },
  },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    t.same(convertLeanPod(row.raw), row.want);
  });
}

t.test('an invalid IP is refused with the field named, as by the full converter', async (t) => {
  const raw = rawPod({ status: { podIPs: [{ ip: '10.64.0.300' }] } });
  const err = (() => {
    try {
      convertLeanPod(raw);
    } catch (e) {
      return e;
    }
  })();
  t.ok(err instanceof InvalidObjectError, 'an InvalidObjectError');
  t.equal((err as InvalidObjectError).field, 'status.podIPs[0].ip');
  t.throws(() => convertPod(raw), InvalidObjectError);
});

t.test('converterFor picks the lean converter only for the kinds named', async (t) => {
  t.equal(converterFor('Pod', ['Pod']), convertLeanPod);
  t.equal(converterFor('Pod'), convertPod);
  t.equal(converterFor('Pod', []), convertPod);
  t.equal(converterFor('Service', ['Pod'])(
    { metadata: { name: 's', namespace: 'x' }, spec: {} },
  ).kind, 'Service');
});
