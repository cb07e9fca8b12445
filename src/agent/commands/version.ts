import pkg from '../../../package.json' with { type: 'json' };
import type { Command } from '../command.ts';

// A JSON import rather than a read by relative path: the bundle
// (dist/netlet.mjs) carries the version inside itself.
export function netletVersion(): string {
  return pkg.version;
}

/** How this process runs netlet: the bundle users get, or the .ts sources (bin/netlet.js decides). */
export const netletRuntime = (): 'bundle' | 'sources' => (import.meta.url.endsWith('.ts') ? 'sources' : 'bundle');

export const versionCommand: Command = {
  summary: 'print the version',
  async run(): Promise<number> {
    process.stdout.write(`netlet ${netletVersion()} (node ${process.version}, ${netletRuntime()})\n`);
    return 0;
  },
};
