// The shared rtnetlink layer (docs/design/layout.md#floors): one import for
// callers outside this folder.
export * from './socket.ts';
export * from './links.ts';
export * from './addresses.ts';
export * from './routes.ts';
export * from './neighbours.ts';
export * from './sysctl.ts';
export * from './ip.ts';
export { NetlinkError, errnoOf } from './errors.ts';
export * from './tunnels.ts';
