#!/usr/bin/env node
// netlet's command line. Runs the bundle dist/netlet.mjs (npm run build) when
// it is fresh, else the TypeScript sources through Node 24's type stripping.
// The bundle is what the image ships and operators run: it costs the agent
// less memory and start-up than the module tree of .ts files
// (docs/design/agent-memory.md#the-bundle). Fresh means no source it was built from
// (dist/netlet.inputs.json) is newer than it or gone: in a checkout being
// edited the sources run, so nobody runs yesterday's code by mistake.
// NETLET_RUNTIME=sources|bundle forces one (bundle: fail if it is missing).
// `netlet version` says which one ran.
// An older `node` on PATH hands over to the Node the project installed (the
// `node` dev dependency) instead of failing obscurely.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
// A namespace import: Node before 22.1 has no enableCompileCache, and a named import would fail to link there.
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';
import { MALLOC_ENV, NODE_FLAGS } from './runtime-flags.js';

const root = new URL('..', import.meta.url);

/** dist/netlet.mjs if it may run, else undefined. */
function freshBundle() {
  const bundle = new URL('dist/netlet.mjs', root);
  const forced = process.env.NETLET_RUNTIME;
  if (forced === 'sources') return undefined;
  if (forced === 'bundle') return bundle;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(new URL('dist/netlet.inputs.json', root), 'utf8'));
  } catch {
    return undefined; // never built (or built by an older build script)
  }
  // An image or package without src/ has nothing to be stale against.
  if (!existsSync(new URL('src', root))) return bundle;
  try {
    const built = Math.min(...inputs.bundles.map((b) => statSync(new URL(b, root)).mtimeMs));
    for (const s of inputs.sources) if (statSync(new URL(s, root)).mtimeMs > built) return undefined;
  } catch {
    return undefined; // a bundle or a source is gone
  }
  return bundle;
}

/** Commands started with runtime-flags.js's V8 flags and malloc settings. */
const LONG_RUNNING = new Set(['agent', 'dns', 'cni-server']);

/** The environment variables still missing from this process, for `command`. */
function missingEnv(command) {
  if (!LONG_RUNNING.has(command)) return {};
  return Object.fromEntries(Object.entries(MALLOC_ENV).filter(([k]) => process.env[k] === undefined));
}

/** The flags still missing from this process, for `command`. */
function missingNodeFlags(command) {
  if (!LONG_RUNNING.has(command)) return [];
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((f) => f.split('=')[0].replaceAll('_', '-'));
  return (process.env.NETLET_NODE_FLAGS ?? NODE_FLAGS).split(/\s+/).filter((f) => f && !given.includes(f.split('=')[0].replaceAll('_', '-')));
}

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const local = fileURLToPath(new URL('node_modules/node/bin/node', root));
  if (!existsSync(local)) {
    process.stderr.write(`netlet needs Node.js 24 or newer (this is ${process.version}); run the setup first\n`);
    process.exit(1);
  }
  const flags = [...missingNodeFlags(process.argv[2]), ...process.execArgv];
  const env = { ...process.env, ...missingEnv(process.argv[2]) };
  const child = spawn(local, [...flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env });
  // Pass stop signals on, so a supervisor's SIGTERM stops the agent rather than orphaning it.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
} else {
  const flags = missingNodeFlags(process.argv[2]);
  const env = missingEnv(process.argv[2]);
  // execve(2), not a child: the same process (pid, signals, stdio) for supervisors and probes.
  if (flags.length || Object.keys(env).length) {
    process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { ...process.env, ...env });
  }
  // V8's on-disk compile cache (in the temp dir): a later start reuses the
  // bytecode of the modules it loads (`netlet version` from the bundle: 55 ms
  // of CPU against 76 ms; NODE_DISABLE_COMPILE_CACHE=1 turns it off). Functions
  // first run later, such as a full sync's, are compiled as before.
  nodeModule.enableCompileCache();
  const bundle = freshBundle();
  const { main } = await import(bundle ? bundle.href : '../src/agent/cli.ts');
  process.exitCode = await main(process.argv.slice(2));
}
