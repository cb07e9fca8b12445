// A separate process that plays one netlet-cni run (or a few in a row):
// allocates for containers `${prefix}-${i}`, i in [start, start+count), and
// prints one JSON line per address it got, after the allocation returned.
// With MODE "parallel" the allocations are all started at once.
// Usage: alloc-worker.ts IPAM_CONF_JSON NODE PREFIX START COUNT [MODE]
import { createIpam } from '../../../src/ipam/index.ts';

const [conf, node, prefix, start, count, mode] = process.argv.slice(2);
const ipam = await createIpam(JSON.parse(conf), { nodeName: node });
process.stdout.write('ready\n');

async function one(i: number): Promise<void> {
  const containerID = `${prefix}-${i}`;
  const got = await ipam.allocate({ containerID, ifname: 'eth0', podNamespace: 'test', podName: containerID });
  process.stdout.write(`${JSON.stringify({ containerID, addresses: got.map((a) => a.address) })}\n`);
}

const ids = Array.from({ length: Number(count) }, (_, k) => Number(start) + k);
if (mode === 'parallel') await Promise.all(ids.map(one));
else for (const i of ids) await one(i);
await ipam.close();
