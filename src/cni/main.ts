// netlet-cni: the CNI plugin containerd executes for every pod (CNI_*
// environment, network config on stdin, result or error on stdout).
// Bundled by scripts/build.ts into dist/netlet-cni.mjs.
import { readFileSync } from 'node:fs';
import { runCni } from './run.ts';

async function main(): Promise<void> {
  let stdin = '';
  try {
    stdin = readFileSync(0, 'utf8');
  } catch {
    // no stdin (VERSION from a terminal)
  }
  // Loaded only when a command needs it: VERSION stays cheap.
  const { stdout, exitCode } = await runCni(process.env, stdin, async (conf, opts) =>
    (await import('../ipam/index.ts')).createIpam(conf, opts),
  );
  if (stdout) process.stdout.write(stdout + '\n');
  process.exitCode = exitCode;
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ cniVersion: "1.1.0", code: 100, msg: String(err?.message ?? err) }) + "\n");
  process.exitCode = 1;
});
