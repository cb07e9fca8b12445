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
import type { DnsObserve } from '../metrics/coredns-metrics.ts';
import { allBlocks } from '../corefile/config.ts';
import { serverLabel } from '../server-label.ts';

const port = parentPort;
if (!port) throw new Error('dns-worker.ts runs as a worker thread');
const data = workerData as WorkerData;
const store = new ObjectStore();
const post = (m: FromWorker) => port.postMessage(m);

// Observations, and forward/cache counts, go to the main thread's metrics in
// batches, not per query, each under the server block it belongs to.
const blocks = allBlocks(data.config);
const groups = blocks.map(() => [] as Observation[]);
const recorders = blocks.map(() => (data.metrics ? new WorkerMetricsRecorder() : undefined));
const flushObservations = () => {
  groups.forEach((list, block) => {
    if (list.length) post({ t: 'observations', block, list: list.splice(0) });
  });
  recorders.forEach((recorder, block) => {
    const batch = recorder?.take();
    if (batch) post({ t: 'metrics', block, batch });
  });
};
const timer = data.observe || data.metrics ? setInterval(flushObservations, 200) : null;
timer?.unref();

port.on('message', (m: ToWorker) => {
  if (m.t === 'objects') {
    for (const o of m.upserts) store.upsert(o);
    for (const r of m.removals) store.remove(r.kind, r.key);
  } else if (m.t === 'synced') store.markSynced(m.kind);
});

// ClusterDns asks for each block's hook by its server label and zones: the block's group.
const blockOf = new Map(blocks.map((b, i) => [`${serverLabel(b)} ${(b.serverZones ?? ['.']).join(',')}`, i]));
const observe: DnsObserve | undefined = data.observe
  ? Object.assign((o: Observation) => void groups[0].push(o), {
      forServer: (server: string, zones: readonly string[]) => {
        const list = groups[blockOf.get(`${server} ${zones.join(',')}`) ?? 0];
        return (o: Observation) => void list.push(o);
      },
    })
  : undefined;

const dns = new ClusterDns({
  store,
  config: data.config,
  reusePort: true,
  forwarder: await loadForwarder(data.config, silentLogger, undefined, recorders[0]),
  blockForwarders: await Promise.all(blocks.slice(1).map((b, i) => loadForwarder(b, silentLogger, undefined, recorders[i + 1]))),
  observe,
  onError: (err, where) => post({ t: 'error', message: err.message, where }),
});
await dns.start();
post({ t: 'listening' });
