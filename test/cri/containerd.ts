// A private containerd for tests, a real container runtime:
// its own root, state, socket and CNI directories, running inside a "node"
// network namespace so pod networking never touches the host's; plus a CRI
// client over gRPC with the hand-written runtime.v1 proto beside this file.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Lab, Netns } from '../helpers/netns.ts';
import { eventually } from '../helpers/netns.ts';
import { writeOciArchive } from './oci-image.ts';

export const PAUSE_IMAGE = 'docker.io/library/netlet-pause:test';

export interface Containerd {
  dir: string;
  socket: string;
  cniBinDir: string;
  cniConfDir: string;
  cri: CriClient;
}

function config(dir: string, cniBinDir: string, cniConfDir: string): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${dir}/containerd.sock"
[ttrpc]
  address = "${dir}/containerd.sock.ttrpc"
[debug]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # root here lacks CAP_SYS_RESOURCE; without this every sandbox fails in runc.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${dir}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${cniBinDir}"
    conf_dir = "${cniConfDir}"
`;
}

/** Builds the static pause binary and its image archive in `dir`. */
export function buildPauseImage(dir: string): string {
  const rootfs = join(dir, 'pause-rootfs');
  mkdirSync(rootfs, { recursive: true });
  const src = fileURLToPath(new URL('./pause.c', import.meta.url));
  execFileSync('gcc', ['-static', '-O2', '-o', join(rootfs, 'pause'), src]);
  return writeOciArchive(join(dir, 'pause-image'), rootfs, PAUSE_IMAGE, ['/pause']);
}

/** Starts containerd inside `node`, imports the pause image, and connects a CRI client. */
export async function startContainerd(lab: Lab, node: Netns, dir: string): Promise<Containerd> {
  const cniBinDir = join(dir, 'cni-bin');
  const cniConfDir = join(dir, 'cni-conf');
  mkdirSync(cniBinDir, { recursive: true });
  mkdirSync(cniConfDir, { recursive: true });
  mkdirSync(join(dir, 'pause-image'), { recursive: true });
  const cfg = join(dir, 'config.toml');
  writeFileSync(cfg, config(dir, cniBinDir, cniConfDir));
  const socket = join(dir, 'containerd.sock');
  // nsenter, not `ip netns exec`: the latter remounts /sys in a new mount
  // namespace, which hides the cgroup hierarchy runc needs.
  const child = lab.track(spawn('nsenter', [`--net=/run/netns/${node.name}`, 'containerd', '--config', cfg, '--log-level', 'warn'], { stdio: 'pipe' }));
  let log = '';
  child.stderr?.on('data', (d) => (log = (log + d).slice(-20_000)));
  await eventually(() => existsSync(socket), 30_000).catch((err) => {
    throw new Error(`containerd did not start: ${(err as Error).message}\n${log}`);
  });
  const archive = buildPauseImage(dir);
  execFileSync('ctr', ['--address', socket, '-n', 'k8s.io', 'images', 'import', '--snapshotter', 'overlayfs', archive], { stdio: 'pipe' });
  const cri = new CriClient(socket);
  await eventually(async () => (await cri.version()).runtime_name, 30_000);
  return { dir, socket, cniBinDir, cniConfDir, cri };
}

/** Lazily unmounts whatever containerd left mounted under `dir` (after a failed test). */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => Boolean(m) && (m === dir || m.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

export interface SandboxStatus {
  id: string;
  state: string;
  network?: { ip: string; additional_ips?: Array<{ ip: string }> };
}

/** The CRI RuntimeService calls the tests use, as promises. */
export class CriClient {
  readonly #client: grpc.Client & Record<string, Function>;

  constructor(socket: string) {
    const def = protoLoader.loadSync(fileURLToPath(new URL('./runtime-v1.proto', import.meta.url)), {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } } };
    this.#client = new pkg.runtime.v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
  }

  #call<T>(method: string, req: object, timeoutMs = 60_000): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#client[method](req, { deadline: Date.now() + timeoutMs }, (err: Error | null, res: T) => (err ? reject(err) : resolve(res)));
    });
  }

  version(): Promise<{ runtime_name: string; runtime_api_version: string }> {
    return this.#call('Version', { version: 'v1' });
  }

  async runPodSandbox(o: { name: string; namespace: string; uid: string; logDirectory: string }): Promise<string> {
    const res = await this.#call<{ pod_sandbox_id: string }>('RunPodSandbox', {
      config: {
        metadata: { name: o.name, namespace: o.namespace, uid: o.uid, attempt: 0 },
        hostname: o.name,
        log_directory: o.logDirectory,
        linux: { security_context: { namespace_options: { network: 'POD', pid: 'POD', ipc: 'POD' } } },
      },
    });
    return res.pod_sandbox_id;
  }

  async podSandboxStatus(id: string): Promise<{ status: SandboxStatus; info: Record<string, string> }> {
    return this.#call('PodSandboxStatus', { pod_sandbox_id: id, verbose: true });
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.#call('StopPodSandbox', { pod_sandbox_id: id });
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.#call('RemovePodSandbox', { pod_sandbox_id: id });
  }

  close(): void {
    this.#client.close();
  }
}
