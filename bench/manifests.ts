// Manifest folder: first load, a rescan with nothing changed (what the
// periodic safety-net rescan costs), and a reload after one file changed.
// Run: npx node bench/manifests.ts

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/base/log.ts';
import { ManifestSource } from '../src/k8s/manifests.ts';
import { ObjectStore } from '../src/k8s/store.ts';

function fileText(first: number, count: number, ipBase: number): string {
  const docs: string[] = [];
  for (let s = first; s < first + count; s++) {
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-${s}\n  namespace: bench\nspec:\n  clusterIP: 10.96.${(s >> 8) & 255}.${s & 255}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n`,
      `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: svc-${s}-1\n  namespace: bench\n  labels:\n    kubernetes.io/service-name: svc-${s}\naddressType: IPv4\nports:\n- name: http\n  port: 8080\nendpoints:\n` +
        [0, 1, 2].map((e) => `- addresses: [10.${ipBase}.${(s >> 8) & 255}.${(s * 3 + e) & 255}]\n  nodeName: node-${e}\n`).join(''),
    );
  }
  return docs.join('---\n');
}

const ms = async (fn: () => Promise<unknown>): Promise<string> => {
  const start = performance.now();
  await fn();
  return (performance.now() - start).toFixed(0);
};

console.log('| services (+1 slice each) | files | first load ms | rescan, nothing changed, ms | reload after one file changed, ms |');
console.log('|---:|---:|---:|---:|---:|');
for (const [services, files] of [[100, 10], [1000, 10], [10000, 100]] as const) {
  const dir = await mkdtemp(join(tmpdir(), 'netlet-bench-manifests-'));
  try {
    const per = services / files;
    for (let f = 0; f < files; f++) await writeFile(join(dir, `f${f}.yaml`), fileText(f * per, per, 64));
    const source = new ManifestSource({ dir, store: new ObjectStore(), log: silentLogger, watch: false, rescanMs: 3_600_000 });
    const load = await ms(() => source.start());
    const idle = await ms(() => source.rescan());
    await writeFile(join(dir, 'f0.yaml'), fileText(0, per, 65));
    const reload = await ms(() => source.rescan());
    await source.stop();
    console.log(`| ${services} | ${files} | ${load} | ${idle} | ${reload} |`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
