// Loads netlet's setns(2) addon (native/setns.c, built by node-gyp at npm
// install), through findAddon, so the same code works from src/netlink/ and
// from the bundled dist/netlet-cni.mjs.
import { findAddon } from '../base/native-addon.ts';

export interface SetnsAddon {
  /** Moves the calling thread into the network namespace `fd` refers to. */
  setns(fd: number): void;
  /** An fd of the calling thread's current network namespace (caller closes it). */
  currentNetnsFd(): number;
}

const ADDON = 'netlet_setns';
let addon: SetnsAddon | undefined;

export function setnsAddon(): SetnsAddon {
  addon ??= findAddon<SetnsAddon>(ADDON);
  if (addon) return addon;
  throw new Error(`native/build/Release/${ADDON}.node not found: run 'npm install' (it builds the addon with node-gyp)`);
}
