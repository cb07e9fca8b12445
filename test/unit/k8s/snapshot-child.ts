// Child process of the crash test (snapshot.test.ts): keeps rewriting a large
// snapshot through SnapshotWriter until it is killed. Prints "written N"
// after each completed write of generation N.
import { ObjectStore } from '../../../src/k8s/store.ts';
import { SnapshotWriter } from '../../../src/k8s/snapshot.ts';
import { silentLogger } from '../../../src/base/log.ts';
import { ALL_KINDS } from '../../../src/k8s/objects.ts';
import { service } from '../../helpers/objects.ts';

const [file, countArg] = process.argv.slice(2);
const store = new ObjectStore();
for (let i = 0; i < Number(countArg); i++) store.upsert(service('bulk', `svc-${i}`, { clusterIPs: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`] }));
for (const k of ALL_KINDS) store.markSynced(k);
const writer = new SnapshotWriter({ file, store, log: silentLogger, debounceMs: 60_000 });
await writer.start();
for (let gen = 1; ; gen++) {
  store.upsert({ kind: 'Namespace', meta: { namespace: '', name: 'generation', uid: 'g', resourceVersion: String(gen) } });
  await writer.flush();
  process.stdout.write(`written ${gen}\n`);
}
