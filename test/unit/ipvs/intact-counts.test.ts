// The counts intact() compares, read from the kernel's own texts: real
// servers in /proc/net/ip_vs, entries in `ipset list -t`, rules per chain.
import t from 'tap';
import { countProcRealServers } from '../../../src/netlink/ipvs.ts';
import { entryCounts } from '../../../src/ipvs/ipsets.ts';
import { ruleCounts } from '../../../src/ipvs/iptables-writer.ts';

t.test('/proc/net/ip_vs: real servers per family, the header line not counted', async (t) => {
  const text = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A60000A:0050 rr
  -> 0AF40202:1F90      Masq    1      0          0
  -> 0AF40102:1F90      Masq    0      1          0
UDP  0A600035:0035 rr
TCP  [fd00:0096:0000:0000:0000:0000:0000:0010]:0050 rr
  -> [fd00:0244:0001:0000:0000:0000:0000:0002]:1F90      Masq    1      0          0
`;
  t.equal(countProcRealServers(text, 4), 2, 'IPv4, the draining one included');
  t.equal(countProcRealServers(text, 6), 1);
  t.equal(countProcRealServers(text.split('TCP  0A')[0], 4), 0, 'an empty table');
});

t.test('ipset list -t: entries per set', async (t) => {
  const text = `Name: KUBE-CLUSTER-IP
Type: hash:ip,port
Revision: 6
Header: family inet hashsize 1024 maxelem 65536 comment bucketsize 12 initval 0x1
Size in memory: 504
References: 2
Number of entries: 3
Name: KUBE-NODE-PORT-TCP
Type: bitmap:port
Number of entries: 0
`;
  t.same([...entryCounts(text)], [['KUBE-CLUSTER-IP', 3], ['KUBE-NODE-PORT-TCP', 0]]);
});

t.test('rules per chain and table', async (t) => {
  const counts = ruleCounts('*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j ACCEPT\n-A KUBE-NODE-PORT -j RETURN\nCOMMIT\n*filter\n-A KUBE-NODE-PORT -j ACCEPT\n-A KUBE-NODE-PORT -j DROP\nCOMMIT\n');
  t.same([...counts], [['nat KUBE-SERVICES', 1], ['nat KUBE-NODE-PORT', 1], ['filter KUBE-NODE-PORT', 2]]);
});
