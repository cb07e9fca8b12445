// `netlet cni-server`: serves netlet-cni calls for the shim (server.ts)
// until SIGTERM/SIGINT. The agent can run the same server as a component.
import { parseArgs } from 'node:util';
import { ConfigError } from '../../base/errors.ts';
import type { Command } from '../command.ts';
import { DEFAULT_CNI_SOCKET, startCniServer } from '../../cni/server.ts';

export const cniServerCommand: Command = {
  summary: 'serve netlet-cni calls on a Unix socket (the fast path of the plugin)',
  async run(argv: string[]): Promise<number> {
    let values;
    try {
      ({ values } = parseArgs({ args: argv, options: { socket: { type: 'string', default: DEFAULT_CNI_SOCKET }, help: { type: 'boolean', short: 'h' } } }));
    } catch (err) {
      throw new ConfigError('', (err as Error).message);
    }
    if (values.help) {
      process.stdout.write(`usage: netlet cni-server [--socket PATH]   (default ${DEFAULT_CNI_SOCKET})\n`);
      return 0;
    }
    const { createIpam } = await import('../../ipam/index.ts');
    const server = await startCniServer({
      socketPath: values.socket,
      createIpam,
      onError: (err) => process.stderr.write(`netlet cni-server: ${err.message}\n`),
      onCallFailed: (call, err) =>
        process.stderr.write(`netlet cni-server: ${call.command} of ${call.containerID || '-'} (netns ${call.netns || '-'}) failed: code ${err.cniCode}: ${err.message}\n`),
    });
    process.stderr.write(`netlet cni-server: listening on ${values.socket}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => server.close(() => resolve());
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    return 0;
  },
};
