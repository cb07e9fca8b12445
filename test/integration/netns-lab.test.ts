import t from 'tap';
import { Lab, rootSkip } from '../helpers/netns.ts';

t.test('a lab wires two namespaces and removes them', { skip: rootSkip() }, async (t) => {
  const lab = new Lab('lab');
  t.teardown(() => lab.cleanup());
  const a = await lab.netns('a');
  const b = await lab.netns('b');
  await lab.link(a, b, '192.0.2.1/24', '192.0.2.2/24');
  const out = await a.exec('ping', ['-c', '1', '-W', '2', '192.0.2.2'], { allowFail: true });
  t.match(out, /1 received/, 'a reaches b over the veth');
  await lab.cleanup();
  const left = await (await import('../helpers/netns.ts')).sh('ip', ['netns', 'list']);
  t.notMatch(left, lab.prefix, 'no namespace left behind');
});
