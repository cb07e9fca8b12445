import { readFileSync } from 'node:fs';
import type { Command } from '../cli.ts';

export function netletVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export const versionCommand: Command = {
  summary: 'print the version',
  async run(): Promise<number> {
    process.stdout.write(`netlet ${netletVersion()} (node ${process.version})\n`);
    return 0;
  },
};
