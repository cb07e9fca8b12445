import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Both ways of starting a tool (posix_spawn through the addon, fork through
// node:child_process) give the same results; each runs in its own process
// because the choice is made once per process (NETLET_SPAWN=node forces fork).
const here = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  const { runTool, toolSpawnMethod } = await import('../../../src/base/run-tool.ts');
  const results = {
    method: toolSpawnMethod(),
    cat: await runTool('cat', [], 'line one\nline two\n'),
    bigCat: (await runTool('cat', [], 'x'.repeat(3 << 20))).stdout.length,
    exit3: await runTool('sh', ['-c', 'echo out; echo err >&2; exit 3']),
    killed: await runTool('sh', ['-c', 'kill -TERM $$']),
    // Node ignores SIGPIPE; a tool must not inherit that (nor any other ignored or blocked signal).
    signals: await runTool('grep', ['-E', '^Sig(Ign|Blk)', '/proc/self/status']),
    earlyExit: await runTool('true', [], 'y'.repeat(1 << 20)),
    missing: await runTool('netlet-no-such-tool', []).then(() => 'started', (e: NodeJS.ErrnoException) => e.code),
  };
  process.stdout.write(JSON.stringify(results));
} else {
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, [here, '--child'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  };
  for (const [name, env, method] of [['posix_spawn (addon)', {}, 'posix_spawn'], ['fork (node:child_process)', { NETLET_SPAWN: 'node' }, 'fork']] as const) {
    t.test(name, async (t) => {
      const r = run(env);
      t.equal(r.method, method);
      t.same(r.cat, { code: 0, stdout: 'line one\nline two\n', stderr: '' }, 'stdin in, stdout back');
      t.equal(r.bigCat, 3 << 20, '3 MiB through stdin and stdout');
      t.same(r.exit3, { code: 3, stdout: 'out\n', stderr: 'err\n' }, 'exit code and both streams');
      t.equal(r.killed.code, 128 + 15, 'a signal is reported as 128 + its number');
      const [, blocked, ignored] = /SigBlk:\s+(\w+)\nSigIgn:\s+(\w+)/.exec(r.signals.stdout)!;
      t.equal(BigInt(`0x${blocked}`), 0n, 'the tool starts with no signal blocked');
      // Bit n-1 is signal n; SIGPIPE is 13. (glibc's own signals 32 and 33 are left as they are.)
      t.equal(BigInt(`0x${ignored}`) & ((1n << 31n) - 1n), 0n, 'nor any standard signal ignored: SIGPIPE is at its default');
      t.equal(r.earlyExit.code, 0, 'a tool that exits without reading its input is no error');
      t.equal(r.missing, 'ENOENT', 'a missing tool rejects with ENOENT');
    });
  }
}
