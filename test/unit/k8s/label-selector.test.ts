// Label selectors: which label sets each form selects, and which texts are refused.
import t from 'tap';
import { parseLabelSelector, selects } from '../../../src/k8s/label-selector.ts';

const web = { app: 'web', tier: 'front' };
const db = { app: 'db' };
const none = {};

const rows: Array<[selector: string, labels: Record<string, string>, selected: boolean]> = [
  ['', none, true],
  ['app=web', web, true],
  ['app==web', web, true],
  ['app=web', db, false],
  ['app!=web', db, true],
  ['app!=web', none, true],
  ['app!=web', web, false],
  ['app in (web, db)', db, true],
  ['app in (web,db)', none, false],
  ['app notin (web)', none, true],
  ['app notin (web)', web, false],
  ['tier', web, true],
  ['tier', db, false],
  ['!tier', db, true],
  ['!tier', web, false],
  ['app=web,tier=front', web, true],
  ['app in (web,db), !tier', db, true],
  ['app in (web,db), !tier', web, false],
  ['example.com/team=a', { 'example.com/team': 'a' }, true],
];

t.test('selection', async (t) => {
  for (const [text, labels, want] of rows) t.equal(selects(parseLabelSelector(text), labels), want, `'${text}' on ${JSON.stringify(labels)}`);
});

t.test('bad selectors are refused with the bad part named', async (t) => {
  t.throws(() => parseLabelSelector('app=web,'), /an empty requirement/);
  t.throws(() => parseLabelSelector('app=we b'), /not a label/);
  t.throws(() => parseLabelSelector('-app=web'), /'-app' is not a label key/);
  t.throws(() => parseLabelSelector('app in (a b)'), /'a b' is not a label value/);
});
