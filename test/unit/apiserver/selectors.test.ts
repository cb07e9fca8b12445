import t from 'tap';
import { fieldValue, parseFieldSelector, parseLabelSelector } from '../../apiserver/selectors.ts';
import { ApiError } from '../../apiserver/status.ts';

const catchIt = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
};

const labels = { app: 'web', tier: 'front', version: '3' };
const get = (k: string): string | undefined => (labels as Record<string, string>)[k];

t.test('label selectors', async (t) => {
  const rows: [string, string, boolean][] = [
    ['equality', 'app=web', true],
    ['double equals', 'app==web', true],
    ['equality miss', 'app=db', false],
    ['not equal', 'app!=db', true],
    ['not equal on a missing key matches', 'zone!=a', true],
    ['in', 'app in (db, web)', true],
    ['in miss', 'app in (db)', false],
    ['notin', 'app notin (db)', true],
    ['notin on a missing key matches', 'zone notin (a)', true],
    ['exists', 'tier', true],
    ['exists miss', 'zone', false],
    ['not exists', '!zone', true],
    ['not exists miss', '!app', false],
    ['AND of terms', 'app=web,tier in (front),!zone', true],
    ['AND with a miss', 'app=web,tier=back', false],
    ['greater than', 'version>2', true],
    ['less than', 'version<3', false],
    ['spaces around', ' app = web , tier ', true],
  ];
  for (const [name, sel, want] of rows) {
    const m = parseLabelSelector(sel);
    t.ok(m, name);
    t.equal(m!(get), want, `${name}: ${sel}`);
  }
  t.equal(parseLabelSelector(''), undefined, 'empty selects everything');
  t.equal(parseLabelSelector(null), undefined);
  for (const bad of ['app in db', 'a=b=c', 'version>x', '(']) {
    t.throws(() => parseLabelSelector(bad), { message: /unable to parse requirement/ }, `rejects ${bad}`);
    t.ok(catchIt(() => parseLabelSelector(bad)) instanceof ApiError, `${bad}: an ApiError (400 Status)`);
  }
});

t.test('field selectors', async (t) => {
  const pod = { metadata: { name: 'p1', namespace: 'a' }, spec: { nodeName: 'n1', hostNetwork: true }, status: { phase: 'Running' } };
  const supported = ['spec.nodeName', 'status.phase', 'spec.hostNetwork'];
  const rows: [string, string, boolean][] = [
    ['name', 'metadata.name=p1', true],
    ['namespace', 'metadata.namespace==a', true],
    ['node', 'spec.nodeName=n1', true],
    ['node !=', 'spec.nodeName!=n1', false],
    ['AND', 'spec.nodeName=n1,status.phase=Running', true],
    ['AND miss', 'spec.nodeName=n1,status.phase=Pending', false],
    ['boolean as text', 'spec.hostNetwork=true', true],
  ];
  for (const [name, sel, want] of rows) {
    const f = parseFieldSelector(sel, supported)!;
    t.equal(f.matcher((k) => fieldValue(pod, k)), want, `${name}: ${sel}`);
  }
  t.equal(parseFieldSelector('metadata.name=p1', [])!.name, 'p1', 'a pinned name is exposed');
  t.throws(() => parseFieldSelector('spec.other=x', supported), /field label not supported: spec.other/);
  t.throws(() => parseFieldSelector('nonsense', supported), /invalid selector/);
  t.equal(fieldValue({ spec: {} }, 'spec.nodeName'), '', 'an unset field reads as the empty string');
});
