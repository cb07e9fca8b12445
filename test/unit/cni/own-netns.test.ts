// issue 13, point 9: netlet-cni must refuse to configure the network
// namespace it runs in (the node's own), whatever path CNI_NETNS gives it.
// The real /proc/self/ns/net is used: it is the namespace this test runs in.
import t from 'tap';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCni } from '../../../src/cni/run.ts';
import { refuseOwnNetns } from '../../../src/cni/own-netns.ts';
import type { Ipam } from '../../../src/ipam/types.ts';

/** An Ipam that must not be reached: a refused ADD allocates nothing. */
class UntouchableIpam implements Ipam {
  calls: string[] = [];
  async allocate(): Promise<never> {
    this.calls.push('allocate');
    throw new Error('allocate reached: the own namespace was not refused');
  }
  async release() {
    this.calls.push('release');
  }
  async lookup() {
    return [];
  }
  async garbageCollect() {
    return 0;
  }
}

const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'netlet-cni', ipam: { type: 'netlet-ipam' } });

t.test('ADD with CNI_NETNS naming the plugin\'s own namespace is refused before IPAM, code 4', async (t) => {
  for (const netns of ['/proc/self/ns/net', '/proc/thread-self/ns/net', `/proc/${process.pid}/ns/net`]) {
    const ipam = new UntouchableIpam();
    const out = await runCni({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: netns, CNI_IFNAME: 'eth0' }, conf, async () => ipam);
    t.equal(out.exitCode, 1, `${netns}: exit status`);
    const json = JSON.parse(out.stdout);
    t.equal(json.code, 4, `${netns}: invalid environment (CNI_NETNS)`);
    t.match(json.msg, /CNI_NETNS/, `${netns}: the message names the variable`);
    t.match(json.msg, /own network namespace/, `${netns}: and says why`);
    t.same(ipam.calls, [], `${netns}: no address was allocated`);
  }
});

t.test('refuseOwnNetns compares the namespace, not the path', async (t) => {
  const fd = openSync('/proc/self/ns/net', 'r');
  t.teardown(() => closeSync(fd));
  t.throws(() => refuseOwnNetns(fd, '/some/bind/mount'), { code: 'ERR_CNI', cniCode: 4 } as object as Error, 'same namespace under another name');
  const other = join(t.testdir(), 'not-a-netns');
  writeFileSync(other, '');
  const otherFd = openSync(other, 'r');
  t.teardown(() => closeSync(otherFd));
  t.doesNotThrow(() => refuseOwnNetns(otherFd, other), 'another file is not the own namespace');
});
