#!/usr/bin/env node
// netlet's command line. The sources are TypeScript run directly by Node 24+
// (type stripping), so an older `node` on PATH hands over to the Node the
// project installed (the `node` dev dependency) instead of failing obscurely.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const local = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(local)) {
    process.stderr.write(`netlet needs Node.js 24 or newer (this is ${process.version}); run the setup first\n`);
    process.exit(1);
  }
  const child = spawn(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Pass stop signals on, so a supervisor's SIGTERM stops the agent rather than orphaning it.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
} else {
  const { main } = await import('../src/agent/cli.ts');
  process.exitCode = await main(process.argv.slice(2));
}
