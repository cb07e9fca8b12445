import t from 'tap';
import { EncodedAnswers } from '../../../src/dns/encoded-answers.ts';

const reply = (text: string) => ({ bytes: Buffer.from(text), answerEnds: [text.length], ancount: 1, nscount: 0, arcount: 0, rcode: 0, zone: 'cluster.local.' });

t.test('kept answers are exact copies outside the shared pool that per-query Buffers come from', async (t) => {
  const answers = new EncodedAnswers(10);
  const msg = reply('an encoded answer');
  answers.set(EncodedAnswers.key(1, 'a.test.'), msg);
  msg.bytes.fill(0);
  const kept = answers.get(EncodedAnswers.key(1, 'a.test.'))!;
  t.equal(kept.bytes.toString(), 'an encoded answer', 'the encoder’s buffer can be reused');
  t.not(kept.bytes.buffer, Buffer.from('per-query garbage').buffer, 'one kept answer does not pin a 64 KiB pool slab');
  t.equal(answers.hits, 1);
});

t.test('when full it starts over, and answers kept before stay intact for their holders', async (t) => {
  const answers = new EncodedAnswers(2);
  answers.set('1 a', reply('aaa'));
  const held = answers.get('1 a')!;
  answers.set('1 b', reply('bbb'));
  answers.set('1 c', reply('ccc'));
  t.equal(answers.size, 1, 'the third entry emptied the map first');
  t.equal(answers.get('1 a'), undefined);
  t.equal(answers.get('1 c')!.bytes.toString(), 'ccc');
  t.equal(held.bytes.toString(), 'aaa', 'a reply already handed out is not overwritten');
});
