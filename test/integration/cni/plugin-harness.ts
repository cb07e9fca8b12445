// Runs the real netlet-cni (the bundle behind the launcher `installCni`
// writes) the way a runtime does: CNI_* environment, config on stdin, inside
// the node's network namespace.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCni } from '../../../src/cni/install.ts';

let built = false;

/** Builds dist/netlet-cni.mjs (once per test process) and installs a launcher in a temp dir. */
export function installPlugin(): { binDir: string; plugin: string; cleanup: () => void } {
  if (!built) {
    execFileSync(process.execPath, ['scripts/build.ts'], { stdio: 'inherit' });
    built = true;
  }
  const dir = mkdtempSync(join(tmpdir(), 'netlet-cni-test-'));
  const binDir = join(dir, 'bin');
  const { plugin } = installCni({ binDir, confDir: join(dir, 'net.d'), cacheDir: join(dir, 'cache') });
  return { binDir, plugin, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';
  containerID?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  conf: unknown;
}

export interface CniReply {
  code: number;
  stdout: string;
  json: any;
}

/** Executes the plugin inside `nodeNetns` (a named netns) and returns its exit code and parsed stdout. */
export function runPlugin(plugin: string, nodeNetns: string, call: CniCall): Promise<CniReply> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, CNI_COMMAND: call.command, CNI_PATH: '/usr/lib/cni' };
  if (call.containerID) env.CNI_CONTAINERID = call.containerID;
  if (call.netns) env.CNI_NETNS = call.netns;
  if (call.ifname) env.CNI_IFNAME = call.ifname;
  if (call.args) env.CNI_ARGS = call.args;
  return new Promise((resolve) => {
    const child = execFile('ip', ['netns', 'exec', nodeNetns, plugin], { env, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      let json: unknown;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = { unparsable: stdout, stderr };
      }
      if (stderr.trim()) json = json ?? { stderr };
      resolve({ code: typeof code === 'number' ? code : 1, stdout, json });
    });
    child.stdin?.end(JSON.stringify(call.conf));
  });
}
