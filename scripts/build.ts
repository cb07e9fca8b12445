// Bundles the CNI plugin into one file: containerd starts it for every pod,
// and loading one file is much faster than resolving a tree of modules
// (ARCHITECTURE.md "The CNI binary starts fast").
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const entry = 'src/cni/main.ts';
if (existsSync(entry)) {
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    outfile: 'dist/netlet-cni.mjs',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
}
