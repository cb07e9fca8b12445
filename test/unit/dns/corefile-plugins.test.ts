// Plugins as a Corefile turns them on, served over UDP and TCP: tables of
// query → rcode and answer as zone text, in the style of CoreDNS's tests.
import t from 'tap';
import type { Test } from 'tap';
import { inQueryOrder } from '../../../src/dns/corefile/plugin-order.ts';
import { FakeUpstream } from './fake-upstream.ts';
import { checkRows, serveCorefile } from './corefile-server.ts';

const Z = 'svc.cluster.local.';

/** An upstream that answers every A question with `answer`: which forward took a name shows in the answer. */
async function upstream(t: Test, answer: string): Promise<FakeUpstream> {
  const u = new FakeUpstream(answer);
  await u.start();
  t.teardown(() => u.stop());
  return u;
}

t.test("plugin order is plugin.cfg's, not the file's", async (t) => {
  t.strictSame(inQueryOrder(['forward', 'cache', 'kubernetes', 'log', 'errors', 'rewrite', 'whoami', 'bind']), ['bind', 'errors', 'log', 'cache', 'rewrite', 'kubernetes', 'forward', 'whoami']);
  const u = await upstream(t, '10.9.9.9');
  // forward written before kubernetes: kubernetes still answers its zone first.
  const served = await serveCorefile(t, { Corefile: `.:0 {\n bind 127.0.0.1\n forward . ${u.label}\n kubernetes cluster.local\n}\n` });
  await checkRows(t, served, [
    { name: 'cluster name from kubernetes', qname: `svc1.testns.${Z}`, qtype: 'A', rcode: 'NOERROR', answer: [`svc1.testns.${Z} 5 IN A 10.0.0.1`] },
    { name: 'the rest forwarded', qname: 'example.com.', qtype: 'A', rcode: 'NOERROR', answer: ['example.com. 300 IN A 10.9.9.9'] },
  ]);
});

t.test('forward: several per block, except', async (t) => {
  const [a, b] = [await upstream(t, '10.1.1.1'), await upstream(t, '10.2.2.2')];
  const served = await serveCorefile(t, {
    Corefile: `.:0 {\n bind 127.0.0.1\n forward corp.example ${b.label}\n forward . ${a.label} {\n  except skip.example\n }\n}\n`,
  });
  await checkRows(t, served, [
    { name: 'the first forward whose zone covers the name', qname: 'www.corp.example.', qtype: 'A', rcode: 'NOERROR', answer: ['www.corp.example. 300 IN A 10.2.2.2'] },
    { name: 'the catch-all', qname: 'www.example.com.', qtype: 'A', rcode: 'NOERROR', answer: ['www.example.com. 300 IN A 10.1.1.1'] },
    { name: 'an except zone is taken by no forward', qname: 'a.skip.example.', qtype: 'A', rcode: 'REFUSED', answer: [] },
  ]);
});
