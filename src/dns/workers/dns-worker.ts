// A DNS worker thread (see dns-workers.ts): a store mirror fed by the main
// thread, its own zone index and SO_REUSEPORT sockets on the same addresses.
import { parentPort, workerData } from 'node:worker_threads';
import { ObjectStore } from '../../k8s/store.ts';
import { silentLogger } from '../../base/log.ts';
import { ClusterDns } from '../cluster-dns.ts';
import type { FromWorker, ToWorker, WorkerData } from './dns-workers.ts';
import type { Observation } from '../answer/handler.ts';
import { loadForwarder } from '../load-parts.ts';
import { WorkerMetricsRecorder } from '../metrics/worker-metrics.ts';

const port = parentPort;
if (!port) throw new Error('dns-worker.ts runs as a worker thread');
const data = workerData as WorkerData;
const store = new ObjectStore();
const post = (m: FromWorker) => port.postMessage(m);

// Observations, and forward/cache counts, go to the main thread's metrics in batches, not per query.
let observations: Observation[] = [];
const recorder = data.metrics ? new WorkerMetricsRecorder() : undefined;
const flushObservations = () => {
  if (observations.length) post({ t: 'observations', list: observations });
  observations = [];
  const batch = recorder?.take();
  if (batch) post({ t: 'metrics', batch });
};
const timer = data.observe || recorder ? setInterval(flushObservations, 200) : null;
timer?.unref();

port.on('message', (m: ToWorker) => {
  if (m.t === 'objects') {
    for (const o of m.upserts) store.upsert(o);
    for (const r of m.removals) store.remove(r.kind, r.key);
  } else if (m.t === 'synced') store.markSynced(m.kind);
});

const dns = new ClusterDns({
  store,
  config: data.config,
  reusePort: true,
  forwarder: await loadForwarder(data.config, silentLogger, undefined, recorder),
  observe: data.observe ? (o) => observations.push(o) : undefined,
  onError: (err, where) => post({ t: 'error', message: err.message, where }),
});
await dns.start();
post({ t: 'listening' });
