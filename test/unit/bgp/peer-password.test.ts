// A BGPPeer's password read from its mounted Secret: the value as is, and each reason it cannot be used named.
import t from 'tap';
import { join } from 'node:path';
import { readPeerPassword } from '../../../src/bgp/peer-password.ts';
import type { BGPPeer } from '../../../src/k8s/objects.ts';

const peer = (key: string): BGPPeer => ({
  kind: 'BGPPeer', meta: { namespace: '', name: 'tor', uid: '', resourceVersion: '' }, peerIP: '192.0.2.1', asNumber: 65001,
  node: '', nodeSelector: '', peerSelector: '', port: 0, sourceAddress: 'UseNodeIP', password: { secretName: 'bgp', key },
});

t.test('read from <dir>/<secret>/<key>', async (t) => {
  const dir = t.testdir({ bgp: { good: 'pass word\n', empty: '', long: 'x'.repeat(81) } });
  t.same(readPeerPassword(dir, peer('good')), { password: 'pass word\n' }, 'the bytes as the Secret holds them');
  t.match(readPeerPassword(dir, peer('missing')).problem, /BGPPeer tor: spec\.password \(Secret bgp key missing\): cannot read .*ENOENT.*mount the Secret under bgp\.secretsDirectory/);
  t.match(readPeerPassword(dir, peer('empty')).problem, /is empty/);
  t.match(readPeerPassword(dir, peer('long')).problem, /at most 80 bytes/);
  t.match(readPeerPassword(join(dir, 'nowhere'), peer('good')).problem, /cannot read/);
});
