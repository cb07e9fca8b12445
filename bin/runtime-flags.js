// How netlet's long-running commands start Node (bin/netlet.js), here apart
// so that the benchmarks can run the agent's code the same way.

/**
 * V8 flags for the long-running commands, given when Node starts (later is
 * too late for heap sizes): small semi-spaces, so a burst such as a full sync
 * does not leave the young generation at its largest
 * (docs/design/agent-memory.md#node-flags). NETLET_NODE_FLAGS replaces the
 * list ("" for none); a flag the operator already gave (command line or
 * NODE_OPTIONS) is left as given.
 */
export const NODE_FLAGS = '--max-semi-space-size=4';
/**
 * And glibc's malloc, read when the process starts: two arenas rather than
 * one per allocating thread, each keeping freed memory
 * (docs/design/agent-memory.md#node-flags). A value in the environment is kept.
 */
export const MALLOC_ENV = { MALLOC_ARENA_MAX: '2' };
