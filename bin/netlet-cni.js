#!/usr/bin/env node
// netlet-cni from a checkout (`npx netlet-cni`, the npm bin). Nodes use the
// launcher `netlet install-cni` writes instead, which names Node 24 directly.
// Runs the bundle (npm run build) with V8's compile cache on; an older `node`
// on PATH hands over to the Node the project installed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
const bundle = fileURLToPath(new URL('../dist/netlet-cni.mjs', import.meta.url));
if (major < 24) {
  const local = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(local)) {
    process.stdout.write(JSON.stringify({ cniVersion: '1.0.0', code: 100, msg: `netlet-cni needs Node.js 24 or newer (this is ${process.version})` }) + '\n');
    process.exit(1);
  }
  const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
// Node 20 has no enableCompileCache; a named import would fail to link there.
nodeModule.enableCompileCache?.();
await import(existsSync(bundle) ? bundle : '../src/cni/main.ts');
