// issue 13, point 7: a 403 at start (the role lacks a verb) is not an
// unreachable API server: the log says forbidden, names the verb and the
// resource and says it is RBAC; a 401 says the credentials were refused; and
// when the API answers again, the recovery is logged at info.
import t from 'tap';
import type { Test } from 'tap';
import { pino } from 'pino';
import { Backoff } from '../../../src/k8s/backoff.ts';
import { ApiSource } from '../../../src/k8s/api-source.ts';
import { ApiClient } from '../../../src/k8s/client.ts';
import { ObjectStore } from '../../../src/k8s/store.ts';
import { startApiServer } from '../../apiserver/server.ts';
import { eventually } from '../../helpers/netns.ts';

interface Line {
  level: number;
  msg: string;
  [k: string]: unknown;
}

async function startSource(t: Test, fault: { code: number; message: string }) {
  const api = await startApiServer();
  t.teardown(() => api.close());
  // Three refusals of the first LISTs of services, as from a ClusterRole without "list" on services until it is fixed.
  api.failNext(3, { verb: 'list', resource: 'services', ...fault });
  const lines: Line[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const client = new ApiClient({ server: api.url });
  const store = new ObjectStore();
  const source = new ApiSource({
    client,
    store,
    kinds: ['Service', 'Namespace'],
    log,
    reflector: { backoff: () => new Backoff({ initialMs: 50, maxMs: 200 }) },
  });
  t.teardown(async () => {
    await source.stop();
    await client.close();
  });
  await source.start();
  return { lines, store };
}

const text = (l: Line): string => JSON.stringify(l);

t.test('403 at start: forbidden, RBAC, verb and resource named; never "unreachable"; recovery at info', async (t) => {
  const { lines, store } = await startSource(t, {
    code: 403,
    message: 'services is forbidden: User "system:serviceaccount:netlet-system:netlet" cannot list resource "services" in API group "" at the cluster scope',
  });
  await eventually(() => store.isSynced('Service', 'Namespace'), 10_000);
  await eventually(() => lines.some((l) => l.level === 30 && /services/.test(text(l)) && /again|recovered/i.test(l.msg)), 5_000).catch(() => undefined);
  t.same(lines.filter((l) => /unreachable/i.test(l.msg)).map((l) => l.msg), [], 'nothing says the API server is unreachable');
  const atStart = lines.find((l) => l.level >= 50);
  t.ok(atStart, 'the failure at start is logged as an error');
  t.match(atStart?.msg, /forbidden/i, 'it says forbidden');
  t.match(atStart?.msg, /RBAC/, 'and that it is RBAC');
  t.match(atStart, { verb: 'list', apiResource: 'services', failure: 'forbidden', status: 403, hint: /ClusterRole/ }, 'names the verb and the resource');
  t.match(atStart?.msg, /list services/, 'in the message too');
  const retries = lines.filter((l) => l.level === 40 && l.resource === 'services');
  t.ok(retries.length >= 1, 'each refused list is a warning');
  for (const r of retries) t.match(r.msg, /forbidden.*RBAC/, `the warning says forbidden (RBAC): ${r.msg}`);
  const recovered = lines.filter((l) => l.level === 30 && /services/.test(text(l)) && /again|recovered/i.test(l.msg));
  t.ok(recovered.length >= 1, `the recovery of the services list is logged at info: ${lines.map((l) => l.msg).join(' | ')}`);
  t.ok(
    lines.some((l) => l.level === 30 && /every kind/i.test(l.msg)),
    'and the source says it is synced with the API after the failure at start',
  );
});

t.test('401 at start: the credentials were refused, not an unreachable server', async (t) => {
  const { lines, store } = await startSource(t, { code: 401, message: 'Unauthorized' });
  await eventually(() => store.isSynced('Service', 'Namespace'), 10_000);
  t.same(lines.filter((l) => /unreachable/i.test(l.msg)).map((l) => l.msg), [], 'nothing says unreachable');
  const atStart = lines.find((l) => l.level >= 50);
  t.match(atStart?.msg, /unauthorized|credentials/i, 'it says the credentials were refused');
});
