import t from 'tap';
import { fileURLToPath } from 'node:url';
import { Lab, rootSkip } from '../../helpers/netns.ts';

const CHILD = fileURLToPath(new URL('./detect-child.ts', import.meta.url));

const rows: { name: string; setup: string[][]; want: 'nft' | 'legacy' }[] = [
  { name: 'nothing anywhere: nft, the default', setup: [], want: 'nft' },
  { name: 'rules only in legacy: legacy', setup: [['iptables-legacy', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.1.0.0/16', '-j', 'MASQUERADE']], want: 'legacy' },
  { name: 'rules only in nft: nft', setup: [['iptables-nft', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.1.0.0/16', '-j', 'MASQUERADE']], want: 'nft' },
  {
    name: "kubelet's hint chain wins over rule counts",
    setup: [
      ['iptables-legacy', '-t', 'nat', '-A', 'POSTROUTING', '-s', '10.1.0.0/16', '-j', 'MASQUERADE'],
      ['iptables-nft', '-t', 'mangle', '-N', 'KUBE-IPTABLES-HINT'],
    ],
    want: 'nft',
  },
];

for (const row of rows) {
  t.test(row.name, { skip: rootSkip() }, async (t) => {
    const lab = new Lab('ipd');
    t.teardown(() => lab.cleanup());
    const ns = await lab.netns('n');
    for (const cmd of row.setup) await ns.exec(cmd[0], cmd.slice(1));
    const got = JSON.parse(await ns.exec(process.execPath, [CHILD])) as { mode: string; reason: string };
    t.equal(got.mode, row.want, got.reason);
  });
}
