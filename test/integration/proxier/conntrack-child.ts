// Runs inside a test namespace (`ip netns exec NS npx node conntrack-child.ts JSON`)
// because a netlink socket belongs to the namespace of the thread that opens it.
// Prints the result as JSON on stdout.
import { NetlinkConntrackTable } from '../../../src/proxier/conntrack-netlink.ts';
import type { ConntrackFilter } from '../../../src/proxier/conntrack-table.ts';
import type { IPFamilyNumber } from '../../../src/proxier/plan.ts';

const req = JSON.parse(process.argv[2]) as { op: 'list' | 'delete'; family: IPFamilyNumber; filters?: ConntrackFilter[] };
const table = new NetlinkConntrackTable();
try {
  if (req.op === 'list') {
    process.stdout.write(JSON.stringify(await table.list(req.family)));
  } else {
    process.stdout.write(JSON.stringify({ deleted: await table.deleteMatching(req.family, req.filters ?? []) }));
  }
} finally {
  table.close();
}
