// The TCP connection caps (src/dns/transport/tcp-admission.ts): per source
// and in total, places given back on close. Real sockets: test/integration/dns/tcp-limits.test.ts.
import t from 'tap';
import { DEFAULT_TCP_LIMITS, TcpAdmission } from '../../../src/dns/transport/tcp-admission.ts';

t.test('the defaults are the documented numbers', async (t) => {
  t.strictSame(DEFAULT_TCP_LIMITS, { maxConnections: 256, maxPerSource: 32 });
});

t.test('per source, in total, and room again after release', async (t) => {
  const a = new TcpAdmission({ maxConnections: 3, maxPerSource: 2 });
  t.strictSame([a.admit('x'), a.admit('x'), a.admit('x')], [true, true, false], 'two from x');
  t.strictSame([a.admit('y'), a.admit('z')], [true, false], 'three in all');
  a.release('x');
  t.equal(a.admit('z'), true, 'a released place is free again');
  t.equal(a.total, 3);
});
