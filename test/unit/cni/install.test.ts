import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConflist, installCni } from '../../../src/cni/install.ts';
import { parseConflist } from '../../../src/cni/config.ts';

t.test('installCni writes an executable launcher and a checked conflist', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netlet-install-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'netlet-cni.mjs');
  writeFileSync(bundle, '');
  const conflist = defaultConflist({ pools: ['10.244.0.0/16'], mode: 'routed', mtu: 1450, portmap: true, nodeName: 'n1' });
  const out = installCni({ binDir: join(dir, 'bin'), confDir: join(dir, 'net.d'), bundlePath: bundle, nodePath: '/opt/node24/bin/node', cacheDir: '/var/cache/x', conflist });
  const text = readFileSync(out.plugin, 'utf8');
  t.equal(text.split('\n')[0], '#!/opt/node24/bin/node', 'the shebang names the Node binary by absolute path');
  t.match(text, JSON.stringify(bundle), 'and it loads the bundle by absolute path');
  t.match(text, /enableCompileCache\?\.\("\/var\/cache\/x"\)/, 'with the compile cache on');
  t.equal(statSync(out.plugin).mode & 0o777, 0o755, 'executable');
  const written = JSON.parse(readFileSync(out.conflist!, 'utf8'));
  t.same(written.plugins.map((p: { type: string }) => p.type), ['netlet-cni', 'portmap']);
  const parsed = parseConflist(written);
  t.equal(parsed.mode, 'routed');
  t.equal(parsed.mtu, 1450);
  t.equal(parsed.nodeName, 'n1');
});

t.test('installCni refuses a bad conflist and a missing bundle', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netlet-install-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'netlet-cni.mjs');
  writeFileSync(bundle, '');
  t.throws(
    () => installCni({ binDir: join(dir, 'bin'), confDir: join(dir, 'net.d'), bundlePath: bundle, conflist: { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'netlet-cni', mode: 'mesh', ipam: {} }] } }),
    /conflist: network config: mode/,
  );
  t.notOk(existsSync(join(dir, 'net.d')), 'nothing written to the config directory');
  t.throws(() => installCni({ binDir: join(dir, 'bin'), confDir: join(dir, 'net.d'), bundlePath: join(dir, 'missing.mjs') }), /npm run build/);
});
