// Installs netlet-cni where a container runtime looks for plugins: a small
// launcher in the CNI bin directory and a conflist in the CNI config
// directory. Used by the DaemonSet's init container, the demo and the tests.
//
// The launcher names the Node.js binary by absolute path (a node's PATH may
// hold an older Node, or none) and loads the bundle from where it was built
// (dist/netlet-cni.mjs next to its node_modules, which hold the `netlink`
// package and the setns addon). It turns on V8's compile cache first, to
// shorten every run after the first (docs/design/cni-speed.md#one-file-compile-cache).
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConflist } from './config.ts';
import { CniError } from './errors.ts';

export interface InstallOptions {
  binDir: string;
  confDir: string;
  /** Node.js ≥ 24 to run the plugin with; default: the one running now. */
  nodePath?: string;
  /** The bundle; default: dist/netlet-cni.mjs of this checkout. */
  bundlePath?: string;
  /** Where V8 keeps its compile cache; default /var/cache/netlet/cni. */
  cacheDir?: string;
  /** The conflist to write (validated); when absent, none is written. */
  conflist?: unknown;
  /** File name in confDir; the runtime uses the first in lexical order. */
  conflistName?: string;
  /**
   * The fast path: install the C shim (native/cni-shim.c) as netlet-cni,
   * handing calls to the agent's CNI socket, with the Node.js launcher beside
   * it as netlet-cni-node for when no agent answers.
   */
  agentSocket?: string;
  /**
   * Installing from a container onto its host (the DaemonSet's init
   * container): where the host's root is mounted, e.g. "/host". The plugin's
   * runtime (Node.js, the bundle, the setns addon, the `netlink` package) is
   * then copied to `<hostRoot><runtimeDir>` and the launcher names it by its
   * path on the host, since the container's own paths do not exist there.
   * binDir and confDir are given as seen from the container (/host/opt/cni/bin).
   */
  hostRoot?: string;
  /** Host path of the copied runtime; default /opt/netlet/cni. */
  runtimeDir?: string;
}

// This file is src/cni/install.ts, or part of a bundle in dist/ (scripts/build.ts).
const projectRoot = (): string =>
  resolve(dirname(fileURLToPath(import.meta.url)), ...(import.meta.url.endsWith('.ts') ? ['..', '..'] : ['..']));
export const defaultShimPath = (): string => join(projectRoot(), 'native', 'build', 'Release', 'netlet-cni-shim');

export const defaultBundlePath = (): string => join(projectRoot(), 'dist', 'netlet-cni.mjs');

/** The launcher's text: a CommonJS file, so it needs no package.json beside it. */
export function launcherScript(nodePath: string, bundlePath: string, cacheDir: string): string {
  return [
    `#!${nodePath}`,
    '// netlet-cni launcher, written by `netlet install-cni`.',
    `try { require('node:module').enableCompileCache?.(${JSON.stringify(cacheDir)}); } catch {}`,
    `import(${JSON.stringify(bundlePath)}).catch((err) => {`,
    `  process.stdout.write(JSON.stringify({ cniVersion: '1.0.0', code: 100, msg: 'netlet-cni failed to load: ' + err.message }) + '\\n');`,
    '  process.exit(1);',
    '});',
    '',
  ].join('\n');
}

/** Writes through a temporary file and a rename, so a runtime never executes half a file. */
function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/**
 * Copies what the plugin needs at run time into `dir` (laid out like the
 * project, so the bundle finds node_modules/netlink and native/ as usual),
 * replacing an older copy. Returns the node binary and bundle inside it.
 */
export function copyRuntime(dir: string, nodePath: string, bundlePath: string): { node: string; bundle: string } {
  const root = projectRoot();
  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'dist'), { recursive: true });
  copyFileSync(nodePath, join(staging, 'node'));
  chmodSync(join(staging, 'node'), 0o755);
  copyFileSync(bundlePath, join(staging, 'dist', 'netlet-cni.mjs'));
  cpSync(join(root, 'native', 'build', 'Release', 'netlet_setns.node'), join(staging, 'native', 'build', 'Release', 'netlet_setns.node'));
  for (const pkg of ['netlink', 'node-gyp-build']) {
    cpSync(join(root, 'node_modules', pkg), join(staging, 'node_modules', pkg), {
      recursive: true,
      filter: (src) => !src.includes(`${pkg}/node_modules/@types`),
    });
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return { node: join(dir, 'node'), bundle: join(dir, 'dist', 'netlet-cni.mjs') };
}

export function installCni(opts: InstallOptions): { plugin: string; conflist?: string } {
  let nodePath = opts.nodePath ?? process.execPath;
  const major = Number(/^v?(\d+)/.exec(process.version)?.[1]);
  if (!opts.nodePath && major < 24) throw new Error(`netlet-cni needs Node.js 24 or newer; ${nodePath} is ${process.version}`);
  let bundlePath = resolve(opts.bundlePath ?? defaultBundlePath());
  if (!existsSync(bundlePath)) throw new Error(`${bundlePath} is missing: run 'npm run build' first`);
  if (opts.hostRoot) {
    const runtimeDir = opts.runtimeDir ?? '/opt/netlet/cni';
    copyRuntime(join(opts.hostRoot, runtimeDir), nodePath, bundlePath);
    nodePath = join(runtimeDir, 'node');
    bundlePath = join(runtimeDir, 'dist', 'netlet-cni.mjs');
  }
  mkdirSync(opts.binDir, { recursive: true });
  const plugin = join(opts.binDir, 'netlet-cni');
  const launcher = launcherScript(nodePath, bundlePath, opts.cacheDir ?? '/var/cache/netlet/cni');
  if (opts.agentSocket) {
    const shim = defaultShimPath();
    if (!existsSync(shim)) throw new Error(`${shim} is missing: run 'npm install' (native/build.sh builds it)`);
    writeAtomic(`${plugin}-node`, launcher, 0o755);
    writeAtomic(`${plugin}.socket`, opts.agentSocket + '\n', 0o644);
    const tmp = `${plugin}.tmp-${process.pid}`;
    copyFileSync(shim, tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, plugin);
  } else {
    writeAtomic(plugin, launcher, 0o755);
  }
  if (opts.conflist === undefined) return { plugin };
  try {
    parseConflist(opts.conflist);
  } catch (err) {
    throw new Error(`conflist: ${err instanceof CniError ? err.message : String(err)}`);
  }
  mkdirSync(opts.confDir, { recursive: true });
  const conflist = join(opts.confDir, opts.conflistName ?? '10-netlet.conflist');
  writeAtomic(conflist, JSON.stringify(opts.conflist, null, 2) + '\n', 0o644);
  return { plugin, conflist };
}

/** The conflist for the common case, as in deploy/: one netlet-cni plugin, then portmap. */
export function defaultConflist(o: { name?: string; mode?: 'bridge' | 'routed'; bridge?: string; mtu?: number; pools: string[]; nodeName?: string; dataDir?: string; blocksFile?: string; portmap?: boolean }): unknown {
  const ipam: Record<string, unknown> = { type: 'netlet-ipam', pools: o.pools.map((cidr) => ({ cidr })) };
  if (o.dataDir) ipam.dataDir = o.dataDir;
  if (o.blocksFile) ipam.blocksFile = o.blocksFile;
  // No mtu unless asked for: the plugin then follows the node's tunnel (cni/pod-mtu.ts).
  const plugin: Record<string, unknown> = { type: 'netlet-cni', mode: o.mode ?? 'bridge', ipam };
  if (o.mtu) plugin.mtu = o.mtu;
  if ((o.mode ?? 'bridge') === 'bridge') plugin.bridge = o.bridge ?? 'netlet0';
  if (o.nodeName) plugin.nodeName = o.nodeName;
  const plugins: unknown[] = [plugin];
  if (o.portmap) plugins.push({ type: 'portmap', capabilities: { portMappings: true } });
  return { cniVersion: '1.0.0', name: o.name ?? 'netlet', plugins };
}
