// Runs inside a test namespace (`ip netns exec NS npx node conntrack-child.ts JSON`)
// because a netlink socket belongs to the namespace of the thread that opens it.
// Prints the result as JSON on stdout.
import { silentLogger } from '../../../src/base/log.ts';
import { ConntrackCleaner } from '../../../src/proxier/conntrack-cleaner.ts';
import { NetlinkConntrackTable } from '../../../src/netlink/conntrack.ts';
import type { ConntrackFilter } from '../../../src/proxier/conntrack-table.ts';
import { planKey } from '../../../src/proxier/plan.ts';
import type { Family, ServicePortPlan } from '../../../src/proxier/plan.ts';

type Request =
  | { op: 'list'; family: Family; protoNum?: number }
  | { op: 'delete'; family: Family; filters: ConntrackFilter[] }
  | { op: 'clean'; family: Family; applied: ServicePortPlan[]; current: ServicePortPlan[] };

const req = JSON.parse(process.argv[2]) as Request;
const table = new NetlinkConntrackTable();
const toSet = (plans: ServicePortPlan[]) => new Map(plans.map((p) => [planKey(p), p]));
try {
  if (req.op === 'list') {
    process.stdout.write(JSON.stringify(await table.list(req.family, req.protoNum)));
  } else if (req.op === 'delete') {
    process.stdout.write(JSON.stringify({ deleted: await table.deleteMatching(req.family, req.filters) }));
  } else {
    const applied = toSet(req.applied);
    const current = toSet(req.current);
    const cleaner = new ConntrackCleaner(table, silentLogger);
    const deleted = await cleaner.clean(req.family, applied, current, new Set([...applied.keys(), ...current.keys()]));
    process.stdout.write(JSON.stringify({ deleted }));
  }
} finally {
  table.close();
}
