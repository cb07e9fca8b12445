// Loads netlet's setns(2) addon (native/setns.c, built by node-gyp at npm
// install). Found by walking up from this file, so the same code works from
// src/netlink/ and from the bundled dist/netlet-cni.mjs.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SetnsAddon {
  /** Moves the calling thread into the network namespace `fd` refers to. */
  setns(fd: number): void;
  /** An fd of the calling thread's current network namespace (caller closes it). */
  currentNetnsFd(): number;
}

const ADDON = join('native', 'build', 'Release', 'netlet_setns.node');
let addon: SetnsAddon | undefined;

export function setnsAddon(): SetnsAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) {
      addon = require(candidate) as SetnsAddon;
      return addon;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`${ADDON} not found above ${fileURLToPath(import.meta.url)}: run 'npm install' (it builds the addon with node-gyp)`);
}
