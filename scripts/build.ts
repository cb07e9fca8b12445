// Bundles netlet's programs with esbuild:
//  - dist/netlet-cni.mjs: the CNI plugin. containerd starts it for every pod,
//    and loading one file is much faster than resolving a tree of modules
//    (docs/design/cni-speed.md#one-file-compile-cache).
//  - dist/netlet.mjs: the `netlet` command line (agent, dns, cleanup, …),
//    which bin/netlet.js runs when it is fresh. It costs the agent less memory
//    than the .ts sources, so it is what an operator runs
//    (docs/design/agent-memory.md#the-bundle).
//  - dist/dns-worker.mjs: the DNS worker thread, started by URL beside
//    whichever module starts it (src/dns/workers/dns-workers.ts), so it is a second
//    entry point.
// Each file is written through a temporary name and a rename: tests rebuild
// while other processes may be loading the bundle.
//
// `node scripts/build.ts` builds all; `--only cni` builds just the plugin.
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

// Paths below are the project's, wherever this is started from.
process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const { values } = parseArgs({ options: { only: { type: 'string' } } });

// esbuild's ESM output has no `require`; bundled CommonJS packages (pino,
// prom-client, undici) call it for Node's built-ins.
const requireShim = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

// The CLI's bundles lose their comments and spaces, and every character
// outside ASCII is escaped: V8 keeps the source of every script it loaded,
// as UTF-16 if one character is not ASCII (docs/design/v8-heap.md#script-source-kept-by-v8).
// esbuild's charset 'ascii' leaves regular expression literals alone (a "µs"
// in a duration pattern), so asciiOnly escapes what remains. License
// comments go to dist/*.LEGAL.txt. Stack traces map back to src/ through the
// linked source map when Node runs with --enable-source-maps.
const compact = {
  minifyWhitespace: true, minifySyntax: true, charset: 'ascii', legalComments: 'external', sourcemap: 'linked', sourcesContent: false,
} as const;

/** `\uXXXX` for every UTF-16 unit above 0x7f: valid in string, template and regex literals alike. */
function asciiOnly(js: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(js);
  return new TextEncoder().encode(text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

interface Target { name: string; entry: string; outfile: string }
const targets: Target[] = [
  { name: 'cni', entry: 'src/cni/main.ts', outfile: 'dist/netlet-cni.mjs' },
  { name: 'cli', entry: 'src/agent/cli.ts', outfile: 'dist/netlet.mjs' },
  { name: 'cli', entry: 'src/dns/workers/dns-worker.ts', outfile: 'dist/dns-worker.mjs' },
];
// What bin/netlet.js checks before running dist/netlet.mjs (see there).
const CLI_INPUTS = 'dist/netlet.inputs.json';

function writeAtomic(path: string, contents: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

const cliSources = new Set<string>();
const cliBundles: string[] = [];
for (const t of targets) {
  if (values.only && values.only !== t.name) continue;
  const result = await build({
    entryPoints: [t.entry],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    outfile: t.outfile,
    write: false,
    metafile: true,
    banner: { js: requireShim },
    // `netlink`'s native binding finds itself from its own files
    // (node-gyp-build + __dirname): Node loads it from node_modules.
    external: ['netlink'],
    logLevel: 'warning',
    ...(t.name === 'cli' ? compact : {}),
  });
  for (const f of result.outputFiles) {
    const escape = t.name === 'cli' && f.path.endsWith('.mjs');
    writeAtomic(relative(process.cwd(), f.path), escape ? asciiOnly(f.contents) : f.contents);
  }
  if (t.name === 'cli') {
    cliBundles.push(t.outfile);
    for (const p of Object.keys(result.metafile.inputs)) if (p.startsWith('src/')) cliSources.add(p);
  }
}
// Written last, after both bundles: the project's own sources in them.
// bin/netlet.js runs the sources instead when any of these is newer than a
// bundle (a checkout being edited) or gone.
if (cliBundles.length) writeAtomic(CLI_INPUTS, JSON.stringify({ bundles: cliBundles, sources: [...cliSources].sort() }) + '\n');
