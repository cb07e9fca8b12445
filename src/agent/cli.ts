import type { Command } from './command.ts';
import { NetletError } from '../base/errors.ts';

// Subcommands load lazily so `netlet version` does not pay for the proxy,
// DNS or CNI code. The names are stable (README.md "Command line").
const commands: Record<string, () => Promise<Command>> = {
  agent: async () => (await import('./commands/agent.ts')).agentCommand,
  dns: async () => (await import('./commands/dns.ts')).dnsCommand,
  demo: async () => (await import('./commands/demo.ts')).demoCommand,
  version: async () => (await import('./commands/version.ts')).versionCommand,
  cleanup: async () => (await import('./commands/cleanup.ts')).cleanupCommand,
  trace: async () => (await import('./commands/trace.ts')).traceCommand,
  'install-cni': async () => (await import('./commands/install-cni.ts')).installCniCommand,
  'cni-server': async () => (await import('./commands/cni-server.ts')).cniServerCommand,
  bgp: async () => (await import('./commands/bgp.ts')).bgpCommand,
};

function usage(): string {
  return [
    'usage: netlet <command> [options]',
    '',
    'commands:',
    ...Object.keys(commands).map((c) => `  ${c}`),
    '',
    "run 'netlet <command> --help' for a command's options",
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`netlet: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (err) {
    // Usage and config errors are the user's to fix: one line, no stack.
    if (err instanceof NetletError) {
      process.stderr.write(`netlet ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
