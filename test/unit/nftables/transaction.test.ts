// The `nft -f` statements of added elements: those a full sync streams
// (ElementStatements, fed one element at a time) are the very text of those
// a partial sync writes from its element list (changeLines).

import t from 'tap';
import { ElementStatements, changeLines, emptyChange } from '../../../src/nftables/transaction.ts';
import type { Element } from '../../../src/nftables/render-plan.ts';
import { wordsFor } from '../../../src/nftables/words.ts';

const w = wordsFor(4);

/** 2,500 elements over three sets, interleaved, some with values: more than one statement's worth in one set. */
function someElements(): Element[] {
  const out: Element[] = [];
  for (let i = 0; i < 2500; i++) {
    const ip = `10.96.${i >> 8}.${i & 255}`;
    out.push({ set: 'service-ips', key: `${ip} . tcp . 80`, value: 'goto pick-tcp-3' });
    if (i % 3 === 0) out.push({ set: 'hairpin', key: `${ip} . ${ip}`, value: '' });
    if (i % 7 === 0) out.push({ set: 'endpoints-tcp-3', key: `${ip} . 80 . 0`, value: '10.128.0.1 . 8080' });
  }
  return out;
}

t.test('streamed statements equal the listed ones, statement for statement', async (t) => {
  const elements = someElements();
  const listed = [...changeLines(w, { ...emptyChange(), addElements: elements })];
  const statements = new ElementStatements(w);
  const streamed: string[] = [];
  for (const e of elements) {
    statements.add(e.set, e.key, e.value);
    streamed.push(...statements.take());
  }
  t.ok(streamed.length > 0, 'a full statement is given before the end');
  statements.end();
  streamed.push(...statements.take());
  t.same(streamed, listed);
  t.equal(listed.length, 5, 'service-ips in three statements, hairpin and endpoints in one each');
  t.same(statements.take(), [], 'nothing is given twice');
});

t.test('added after the listed elements, through addStream', async (t) => {
  const elements = someElements();
  const statements = new ElementStatements(w);
  for (const e of elements.slice(1)) statements.add(e.set, e.key, e.value);
  statements.end();
  const text = [...changeLines(w, { ...emptyChange(), addElements: elements.slice(0, 1), addStream: statements.take() })].join('');
  t.match(text, /^add element ip netlet service-ips \{ 10\.96\.0\.0 \. tcp \. 80 : goto pick-tcp-3 \}\nadd element ip netlet service-ips \{ 10\.96\.0\.1 /);
});
