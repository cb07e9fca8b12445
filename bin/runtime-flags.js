// How netlet's long-running commands start Node (bin/netlet.js), here apart
// so that the benchmarks can run the agent's code the same way.

/**
 * V8 flags for the long-running commands, which must be given when Node
 * starts (v8.setFlagsFromString is too late for heap sizes). Node 24's young
 * generation grows to 2 × 64 MB semi-spaces under a burst of allocation such
 * as a full sync at 10k services, and keeps those pages: 4 MB semi-spaces
 * took the bundled agent at 10k services from 283 to 198 MB RSS after its
 * first sync (1 MB saved nothing more), at the cost of more, shorter
 * scavenges (docs/design/agent-memory.md#node-flags). NETLET_NODE_FLAGS
 * replaces the list ("" for none); a flag the operator already gave
 * (command line or NODE_OPTIONS) is left as given.
 */
export const NODE_FLAGS = '--max-semi-space-size=4';
/**
 * And glibc's malloc, read when the process starts: by default each thread
 * that allocates (V8's GC helpers, libuv's pool) may get an arena of its
 * own, which keeps freed memory; two arenas took the agent at 10k services
 * from ~196 to ~189 MB. A value in the environment is kept.
 */
export const MALLOC_ENV = { MALLOC_ARENA_MAX: '2' };
