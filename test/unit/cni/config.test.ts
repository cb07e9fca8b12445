import t from 'tap';
import { parseConflist, parseNetConf, decodeJson } from '../../../src/cni/config.ts';
import { CniError } from '../../../src/cni/errors.ts';
import type { CniCommand } from '../../../src/cni/env.ts';

const good = {
  cniVersion: '1.0.0',
  name: 'netlet',
  type: 'netlet-cni',
  ipam: { type: 'netlet-ipam', pools: [{ cidr: '10.244.0.0/16' }] },
};

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof CniError) return err.cniCode;
    throw err;
  }
}

t.test('defaults', async (t) => {
  const c = parseNetConf(good, 'ADD');
  t.equal(c.mode, 'bridge');
  t.equal(c.bridge, 'netlet0');
  t.equal(c.mtu, 0, 'no mtu: 0, the tunnel MTU chosen at ADD');
  t.equal(c.hairpinMode, true);
  t.equal(c.prevResult, undefined);
});

t.test('every error code the config can produce', async (t) => {
  const rows: Array<{ name: string; raw: unknown; command?: CniCommand; code: number | undefined }> = [
    { name: 'valid', raw: good, code: undefined },
    { name: 'routed mode', raw: { ...good, mode: 'routed' }, code: undefined },
    { name: 'not an object', raw: [1], code: 6 },
    { name: 'unsupported version', raw: { ...good, cniVersion: '0.2.0' }, code: 1 },
    { name: 'future version', raw: { ...good, cniVersion: '9.0.0' }, code: 1 },
    { name: 'CHECK on 0.3.1', raw: { ...good, cniVersion: '0.3.1' }, command: 'CHECK', code: 1 },
    { name: 'STATUS on 1.0.0', raw: good, command: 'STATUS', code: 1 },
    { name: 'GC on 1.0.0', raw: good, command: 'GC', code: 1 },
    { name: 'STATUS on 1.1.0', raw: { ...good, cniVersion: '1.1.0' }, command: 'STATUS', code: undefined },
    { name: 'unknown field', raw: { ...good, bridgeName: 'x' }, code: 2 },
    { name: 'missing cniVersion', raw: { ...good, cniVersion: undefined }, code: 7 },
    { name: 'bad name', raw: { ...good, name: '-x' }, code: 7 },
    { name: 'missing type', raw: { ...good, type: '' }, code: 7 },
    { name: 'bad mode', raw: { ...good, mode: 'overlay' }, code: 7 },
    { name: 'bridge name too long', raw: { ...good, bridge: 'a234567890123456' }, code: 7 },
    { name: 'mtu too small', raw: { ...good, mtu: 10 }, code: 7 },
    { name: 'mtu not integer', raw: { ...good, mtu: 1500.5 }, code: 7 },
    { name: 'hairpin not boolean', raw: { ...good, hairpinMode: 'yes' }, code: 7 },
    { name: 'missing ipam', raw: { ...good, ipam: undefined }, code: 7 },
    { name: 'dns not an object', raw: { ...good, dns: 'x' }, code: 7 },
    { name: 'CHECK without prevResult', raw: good, command: 'CHECK', code: 7 },
    { name: 'prevResult with bad ips', raw: { ...good, prevResult: { ips: [{ address: 5 }] } }, code: 7 },
    { name: 'GC with bad attachments', raw: { ...good, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 1 }] }, command: 'GC', code: 7 },
  ];
  for (const r of rows) t.equal(codeOf(() => parseNetConf(r.raw, r.command ?? 'ADD')), r.code, r.name);
  t.equal(codeOf(() => decodeJson('{nope')), 6, 'undecodable stdin is code 6');
});

t.test('unsupported field error names the key and value', async (t) => {
  try {
    parseNetConf({ ...good, colour: 'blue' }, 'ADD');
    t.fail('expected an error');
  } catch (err) {
    t.match((err as CniError).message, /colour/);
    t.match((err as CniError).details, /colour="blue"/);
  }
});

t.test('prevResult of an older version is read into the 1.x shape', async (t) => {
  const c = parseNetConf(
    {
      ...good,
      cniVersion: '0.4.0',
      prevResult: {
        cniVersion: '0.4.0',
        interfaces: [{ name: 'eth0', sandbox: '/run/netns/x' }],
        ips: [{ version: '4', address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }],
        routes: [{ dst: '0.0.0.0/0' }],
      },
    },
    'CHECK',
  );
  t.same(c.prevResult?.ips, [{ address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }]);
});

t.test('GC attachments', async (t) => {
  const c = parseNetConf({ ...good, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }] }, 'GC');
  t.same(c.validAttachments, [{ containerID: 'a', ifname: 'eth0' }]);
});

t.test('conflist', async (t) => {
  const c = parseConflist({ cniVersion: '1.0.0', name: 'netlet', plugins: [{ type: 'netlet-cni', mode: 'routed', ipam: good.ipam }, { type: 'portmap' }] });
  t.equal(c.mode, 'routed');
  t.equal(c.name, 'netlet');
  t.equal(codeOf(() => parseConflist({ cniVersion: '1.0.0', name: 'n', plugins: [] })), 7, 'empty plugins');
  t.equal(codeOf(() => parseConflist({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'bridge' }] })), 7, 'no netlet-cni entry');
});
