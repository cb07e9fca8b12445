// `netlet cleanup`'s routes part (src/routes/cleanup.ts): netlet's routes go
// first, then each mode's devices and entries; foreign routes stay; a mode
// that cannot clean up is reported, and the others still run.
import t from 'tap';
import { silentLogger } from '../../../src/base/log.ts';
import { removeNodeRoutes } from '../../../src/routes/cleanup.ts';
import { NODE_ROUTES_PROTOCOL, describeRoute } from '../../../src/routes/route-table.ts';
import { JournaledTable, RecordingMode } from './fakes.ts';

function table(journal: string[]) {
  const tbl = new JournaledTable(journal);
  tbl.routes.push(
    { dst: '10.244.0.64/26', family: 4, type: 'unicast', gateway: '192.168.0.2', dev: 'fake0', onlink: true, protocol: NODE_ROUTES_PROTOCOL },
    { dst: '10.99.0.0/16', family: 4, type: 'unicast', gateway: '192.168.0.254', protocol: 4 },
  );
  return tbl;
}

t.test('routes first, then the mode cleans up; foreign routes stay', async (t) => {
  const journal: string[] = [];
  const tbl = table(journal);
  t.equal(await removeNodeRoutes(silentLogger, tbl, [new RecordingMode(journal)]), 1);
  t.same(journal, ['remove 10.244.0.64/26 via 192.168.0.2 dev fake0 onlink', 'cleanup']);
  t.same(tbl.routes.map(describeRoute), ['10.99.0.0/16 via 192.168.0.254']);
  t.notOk(tbl.closed, 'a table given by the caller is not closed');
});

t.test('a mode that fails to clean up is reported; the next mode still runs', async (t) => {
  const journal: string[] = [];
  const broken = new RecordingMode(journal);
  broken.cleanup = async () => {
    journal.push('broken cleanup');
    throw new Error('EBUSY');
  };
  await t.rejects(removeNodeRoutes(silentLogger, table(journal), [broken, new RecordingMode(journal)]), {
    code: 'ERR_ROUTES_CLEANUP',
    message: 'could not remove fake mode state (EBUSY)',
  });
  t.same(journal, ['remove 10.244.0.64/26 via 192.168.0.2 dev fake0 onlink', 'broken cleanup', 'cleanup']);
});
