import t from 'tap';
import { EncodedAnswers } from '../../../src/dns/answer/encoded-answers.ts';
import type { CachedReply } from '../../../src/dns/answer/encoded-answers.ts';

const reply = (text: string, more: Partial<CachedReply> = {}): CachedReply => ({
  bytes: Buffer.from(text),
  answerEnds: [text.length],
  ttlOffsets: [],
  storedMs: 0,
  lifetimeS: 0,
  ancount: 1,
  nscount: 0,
  arcount: 0,
  rcode: 0,
  zone: 'cluster.local.',
  ...more,
});

t.test('an entry reads back as it was set: bytes, counts, answer offsets, rcode and zone', async (t) => {
  const answers = new EncodedAnswers(10);
  const a = reply('first answer', { answerEnds: [3, 7, 12], ancount: 3, nscount: 1, arcount: 2 });
  const b = reply('a denial', { answerEnds: [], ancount: 0, nscount: 1, rcode: 3, zone: 'in-addr.arpa.' });
  answers.set(1, 'a.test.', a);
  answers.set(28, 'a.test.', b);
  t.strictSame({ ...answers.get(1, 'a.test.')!, bytes: 'first answer' }, { ...a, bytes: 'first answer' });
  t.strictSame({ ...answers.get(28, 'a.test.')!, bytes: 'a denial' }, { ...b, bytes: 'a denial' });
  t.equal(answers.get(28, 'a.test.')!.bytes.toString(), 'a denial', 'the same name of another type is another entry');
  t.equal(answers.get(33, 'a.test.'), undefined);
  t.equal(answers.hits, 3);
  t.equal(answers.misses, 1);
});

t.test('kept answers are exact copies outside the shared pool that per-query Buffers come from', async (t) => {
  const answers = new EncodedAnswers(10);
  const msg = reply('an encoded answer');
  answers.set(1, 'a.test.', msg);
  msg.bytes.fill(0);
  const kept = answers.get(1, 'a.test.')!;
  t.equal(kept.bytes.toString(), 'an encoded answer', 'the encoder’s buffer can be reused');
  t.not(kept.bytes.buffer, Buffer.from('per-query garbage').buffer, 'one kept answer does not pin a 64 KiB pool slab');
});

t.test('many entries, small and large, share slabs without overwriting each other', async (t) => {
  const answers = new EncodedAnswers(10_000);
  const text = (i: number) => `answer ${i} `.repeat(i % 97 === 0 ? 2000 : 1 + (i % 13));
  for (let i = 0; i < 3000; i++) answers.set(1, `n${i}.test.`, reply(text(i), { ancount: i % 7 }));
  t.equal(answers.size, 3000);
  let wrong = 0;
  for (let i = 0; i < 3000; i++) {
    const got = answers.get(1, `n${i}.test.`)!;
    if (got.bytes.toString() !== text(i) || got.ancount !== i % 7 || got.answerEnds[0] !== text(i).length % 65536) wrong++;
  }
  t.equal(wrong, 0, 'every entry reads back intact');
});

t.test('when full it starts over, and answers kept before stay intact for their holders', async (t) => {
  const answers = new EncodedAnswers(2);
  answers.set(1, 'a', reply('aaa'));
  const held = answers.get(1, 'a')!;
  answers.set(1, 'b', reply('bbb'));
  answers.set(1, 'c', reply('ccc'));
  t.equal(answers.size, 1, 'the third entry emptied the map first');
  t.equal(answers.get(1, 'a'), undefined);
  t.equal(answers.get(1, 'c')!.bytes.toString(), 'ccc');
  t.equal(held.bytes.toString(), 'aaa', 'a reply already handed out is not overwritten');
});

t.test('setting a name again replaces its entry without counting it twice', async (t) => {
  const answers = new EncodedAnswers(10);
  answers.set(1, 'a', reply('old'));
  answers.set(1, 'a', reply('new'));
  t.equal(answers.size, 1);
  t.equal(answers.get(1, 'a')!.bytes.toString(), 'new');
});

t.test('a cache of size 0 keeps nothing', async (t) => {
  const answers = new EncodedAnswers(0);
  answers.set(1, 'a', reply('aaa'));
  t.equal(answers.get(1, 'a'), undefined);
  t.equal(answers.size, 0);
});
