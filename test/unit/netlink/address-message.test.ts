// kube-ipvs0's address messages for a batch (RTM_NEWADDR / RTM_DELADDR), byte for byte.
import t from 'tap';
import { encodeAddressMessage } from '../../../src/netlink/addresses.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+|#[^\n]*/g, ''), 'hex');

t.test('add 10.96.0.10/32 on link 7', async (t) => {
  t.same(
    encodeAddressMessage('add', 3, 7, '10.96.0.10/32'),
    hex(`
      28000000 1400 0506 03000000 00000000   # len 40, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE, seq 3
      02 20 00 00 07000000                   # AF_INET, /32, flags, scope, index 7
      0800 0200 0a60000a                     # IFA_LOCAL
      0800 0100 0a60000a                     # IFA_ADDRESS
    `),
  );
});

t.test('IPv6 adds skip DAD; a delete carries no create flags', async (t) => {
  const add = encodeAddressMessage('add', 1, 7, 'fd00::a/128');
  t.match(add.toString('hex'), /0800080002000000$/, 'IFA_FLAGS NODAD last');
  t.equal(add[17], 128, '/128');
  const del = encodeAddressMessage('delete', 2, 7, '10.96.0.10/32');
  t.equal(del.readUInt16LE(4), 21, 'RTM_DELADDR');
  t.equal(del.readUInt16LE(6), 0x5, 'REQUEST|ACK');
});
