import t from 'tap';
import { nodePortAddressesFor, validateNodePortAddresses } from '../../../src/proxier/node-port-addresses.ts';
import { node } from '../../helpers/objects.ts';

const local = ['127.0.0.1', '192.168.1.10', '10.0.5.3', '::1', 'fd00::10', '2001:db8::5'];
const n = node('node-a', { internalIPs: ['192.168.1.10', 'fd00::10'] });

const rows: { name: string; entries: string[]; family: 4 | 6; want: string[] }[] = [
  { name: 'empty config: every address', entries: [], family: 4, want: [] },
  { name: 'a CIDR selects the local addresses in it', entries: ['192.168.0.0/16'], family: 4, want: ['192.168.1.10'] },
  { name: 'CIDRs of the other family are ignored', entries: ['192.168.0.0/16', 'fd00::/8'], family: 6, want: ['fd00::10'] },
  { name: '"primary" is the node\'s InternalIP of the family', entries: ['primary'], family: 4, want: ['192.168.1.10'] },
  { name: '"primary" with a CIDR', entries: ['primary', '10.0.0.0/8'], family: 4, want: ['10.0.5.3', '192.168.1.10'] },
  { name: 'a CIDR matching nothing yields none (the caller warns)', entries: ['172.16.0.0/12'], family: 4, want: [] },
];
for (const row of rows) {
  t.test(row.name, async (t) => {
    t.same(nodePortAddressesFor(row.family, row.entries, n, local), row.want);
  });
}

t.test('validation names the bad entry', async (t) => {
  t.doesNotThrow(() => validateNodePortAddresses(['primary', '10.0.0.0/8', 'fd00::/64']));
  t.throws(() => validateNodePortAddresses(['10.0.0.1']), { code: 'ERR_CONFIG', message: /"10\.0\.0\.1" is neither a CIDR nor "primary"/ });
  t.throws(() => validateNodePortAddresses(['eth0']), { code: 'ERR_CONFIG' });
});
