// The setup most real-plugin tests start with: a Lab for the node and pod
// namespaces, the plugin installed, and a data directory for IPAM.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../helpers/netns.ts';
import { installPlugin } from './plugin-harness.ts';

/**
 * A Lab named labName, the netlet-cni plugin installed (the path to run) and
 * a fresh data directory named from dataDirPrefix; at teardown the lab is
 * cleaned up, then the plugin and the directory are removed.
 */
export function pluginLab(t: { teardown(fn: () => unknown): void }, labName: string, dataDirPrefix: string): { lab: Lab; plugin: string; dataDir: string } {
  const lab = new Lab(labName);
  const { plugin, cleanup } = installPlugin();
  const dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix));
  t.teardown(async () => {
    await lab.cleanup();
    cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { lab, plugin, dataDir };
}
