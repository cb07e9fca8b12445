import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ApiSource } from '../../../src/k8s/api-source.ts';
import { Backoff } from '../../../src/k8s/backoff.ts';
import { ApiClient } from '../../../src/k8s/client.ts';
import { snapshotAccess } from '../../../src/k8s/snapshot-access.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import type { Kind } from '../../../src/k8s/objects.ts';
import { eventually } from '../../helpers/netns.ts';

// A cluster without netlet's IPAMBlock CRD answers 404 for its list. That is
// "no blocks", not an outage: the source must not go offline, and the
// snapshot must still be written.

t.test('a CRD that is not installed neither triggers offline mode nor blocks the snapshot', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-crd-'));
  const srv = createServer((req, res) => {
    const url = req.url ?? '';
    res.setHeader('content-type', 'application/json');
    if (url.startsWith('/apis/netlet.io/')) {
      res.writeHead(404).end(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' }));
    } else if (url.includes('watch=true')) {
      res.writeHead(200); // an open, quiet watch
    } else {
      res.writeHead(200).end(JSON.stringify({ kind: 'NamespaceList', metadata: { resourceVersion: '2' }, items: [{ metadata: { name: 'default', uid: 'u', resourceVersion: '1' } }] }));
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const client = new ApiClient({ server: `http://127.0.0.1:${(srv.address() as AddressInfo).port}` });
  const store = new ObjectStore();
  const kinds: Kind[] = ['Namespace', 'IPAMBlock'];
  const logs: { msg?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l)) });
  const file = join(dir, 'snap.json');
  const src = new ApiSource({
    client,
    store,
    kinds,
    log,
    snapshot: snapshotAccess(file, store, log, kinds, 20),
    reflector: { backoff: () => new Backoff({ initialMs: 50, maxMs: 200 }) },
  });
  t.teardown(async () => {
    await src.stop();
    await client.close();
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  await src.start();
  t.equal(src.offline, false);
  t.equal(src.healthy(), true);
  t.equal(store.count('IPAMBlock'), 0);
  await eventually(() => stat(file).then(() => true, () => false));
  await new Promise((r) => setTimeout(r, 300)); // several 404 retries
  t.equal(logs.filter((l) => /not served/.test(l.msg ?? '')).length, 1, 'said once, not at every retry');
  t.notOk(logs.some((l) => /offline|unreachable/.test(l.msg ?? '')));
});
