import t from 'tap';
import type * as Tap from 'tap';
import { ConfigError } from '../../../src/base/errors.ts';
import { parseIpamConfig } from '../../../src/ipam/config.ts';

const defaults = { nodeName: 'node-a' };

/** The ConfigError `fn` throws (fails the test when it throws none or another error). */
function configError(t: Tap.Test, fn: () => unknown, name: string): ConfigError | undefined {
  try {
    fn();
  } catch (err) {
    t.type(err, ConfigError, `${name}: a ConfigError`);
    return err as ConfigError;
  }
  t.fail(`${name}: no error thrown`);
  return undefined;
}

t.test('defaults and a full section', async (t) => {
  const c = parseIpamConfig({ type: 'netlet-ipam', pools: [{ cidr: '10.244.0.0/16' }, { cidr: 'fd00:10:244::/56' }] }, defaults);
  t.equal(c.mode, 'blocks');
  t.equal(c.datastore, 'local');
  t.same(c.pools.map((p) => [p.name, p.blockSize, p.disabled]), [
    ['10.244.0.0/16', 26, false],
    ['fd00:10:244::/56', 122, false],
  ], 'blockSize defaults to 26 and 122');
  t.equal(c.dataDir, '/var/lib/netlet/ipam');
  t.equal(c.blocksFile, '/var/lib/netlet/ipam/blocks.json');
  t.equal(c.nodeName, 'node-a');
  t.equal(c.lockTimeoutMs, 10_000);

  const d = parseIpamConfig(
    { mode: 'podCIDR', datastore: 'kubernetes', kubeconfig: '/k', dataDir: '/d', nodeName: 'n2', lockTimeout: '2s' },
    { nodeName: 'node-a', dataDir: '/plugin-default' },
  );
  t.same([d.mode, d.datastore, d.kubeconfig, d.dataDir, d.nodeName, d.lockTimeoutMs], ['podCIDR', 'kubernetes', '/k', '/d', 'n2', 2000], 'the section wins over plugin defaults');
  t.equal(parseIpamConfig({ pools: [{ cidr: '10.0.0.0/8' }] }, { nodeName: 'x', dataDir: '/plugin-default' }).dataDir, '/plugin-default', 'plugin default dataDir');
});

t.test('bad sections are ConfigErrors naming the key', async (t) => {
  const rows: Array<{ name: string; conf: unknown; key: string; match?: RegExp }> = [
    { name: 'not a mapping', conf: 'x', key: 'ipam' },
    { name: 'unknown top key', conf: { pools: [{ cidr: '10.0.0.0/8' }], ranges: [] }, key: 'ipam.ranges', match: /unknown key/ },
    { name: 'bad mode', conf: { mode: 'host-local' }, key: 'ipam.mode', match: /blocks, podCIDR/ },
    { name: 'bad datastore', conf: { datastore: 'etcd', pools: [{ cidr: '10.0.0.0/8' }] }, key: 'ipam.datastore' },
    { name: 'no pools in blocks mode', conf: {}, key: 'ipam.pools', match: /required/ },
    { name: 'pools not a list', conf: { pools: {} }, key: 'ipam.pools' },
    { name: 'pool without cidr', conf: { pools: [{ blockSize: 26 }] }, key: 'ipam.pools[0].cidr' },
    { name: 'pool cidr invalid', conf: { pools: [{ cidr: '10.0.0.1/8' }] }, key: 'ipam.pools[0].cidr', match: /host bits/ },
    { name: 'unknown pool key', conf: { pools: [{ cidr: '10.0.0.0/8', natOutgoing: true }] }, key: 'ipam.pools[0].natOutgoing' },
    { name: 'blockSize shorter than pool', conf: { pools: [{ cidr: '10.0.0.0/16', blockSize: 8 }] }, key: 'ipam.pools[0].blockSize' },
    { name: 'blockSize too long', conf: { pools: [{ cidr: '10.0.0.0/16', blockSize: 31 }] }, key: 'ipam.pools[0].blockSize' },
    { name: 'blockSize not a number', conf: { pools: [{ cidr: '10.0.0.0/16', blockSize: '26' }] }, key: 'ipam.pools[0].blockSize' },
    { name: 'second pool bad', conf: { pools: [{ cidr: '10.0.0.0/16' }, { cidr: 'fd00::/120', blockSize: 127 }] }, key: 'ipam.pools[1].blockSize' },
    { name: 'disabled not boolean', conf: { pools: [{ cidr: '10.0.0.0/16', disabled: 'yes' }] }, key: 'ipam.pools[0].disabled' },
    { name: 'overlapping pools', conf: { pools: [{ cidr: '10.0.0.0/8' }, { cidr: '10.1.0.0/16' }] }, key: 'ipam.pools', match: /overlap/ },
    { name: 'duplicate pool names', conf: { pools: [{ cidr: '10.0.0.0/16', name: 'a' }, { cidr: '10.1.0.0/16', name: 'a' }] }, key: 'ipam.pools', match: /named a/ },
    { name: 'pools in podCIDR mode', conf: { mode: 'podCIDR', podCIDRs: ['10.0.0.0/24'], pools: [{ cidr: '10.0.0.0/8' }] }, key: 'ipam.pools' },
    { name: 'podCIDR mode local without podCIDRs', conf: { mode: 'podCIDR' }, key: 'ipam.podCIDRs', match: /required/ },
    { name: 'podCIDRs in blocks mode', conf: { pools: [{ cidr: '10.0.0.0/8' }], podCIDRs: ['10.0.0.0/24'] }, key: 'ipam.podCIDRs' },
    { name: 'podCIDR invalid', conf: { mode: 'podCIDR', podCIDRs: ['10.0.0.0/24', 'nope'] }, key: 'ipam.podCIDRs[1]' },
    { name: 'blocksFile with kubernetes', conf: { datastore: 'kubernetes', blocksFile: '/x', pools: [{ cidr: '10.0.0.0/8' }] }, key: 'ipam.blocksFile' },
    { name: 'kubeconfig with local', conf: { kubeconfig: '/x', pools: [{ cidr: '10.0.0.0/8' }] }, key: 'ipam.kubeconfig' },
    { name: 'dataDir not a string', conf: { dataDir: 5, pools: [{ cidr: '10.0.0.0/8' }] }, key: 'ipam.dataDir' },
    { name: 'bad lockTimeout', conf: { lockTimeout: 'soon', pools: [{ cidr: '10.0.0.0/8' }] }, key: 'ipam.lockTimeout' },
  ];
  for (const r of rows) {
    const err = configError(t, () => parseIpamConfig(r.conf, defaults), r.name);
    t.equal(err?.key, r.key, `${r.name}: names ${r.key}`);
    if (r.match) t.match(err?.message, r.match, `${r.name}: says why`);
  }
  const err = configError(t, () => parseIpamConfig({ pools: [{ cidr: '10.0.0.0/8' }] }, { nodeName: '' }), 'no node name anywhere');
  t.equal(err?.key, 'ipam.nodeName', 'no node name anywhere: names ipam.nodeName');
});
