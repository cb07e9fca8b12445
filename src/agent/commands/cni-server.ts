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
      ({ values } = parseArgs({ args: argv, options: { socket: { type: 'string', default: DEFAULT_CNI_SOCKET }, kubeconfig: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
    } catch (err) {
      throw new ConfigError('', (err as Error).message);
    }
    if (values.help) {
      process.stdout.write(
        `usage: netlet cni-server [--socket PATH] [--kubeconfig FILE]\n\n` +
          `  --socket PATH      where the shim connects (default ${DEFAULT_CNI_SOCKET})\n` +
          `  --kubeconfig FILE  the identity IPAM block claims use (a network config's own ipam.kubeconfig wins);\n` +
          `                     default: $KUBECONFIG, the in-cluster config, then ~/.kube/config\n`,
      );
      return 0;
    }
    const { createIpam } = await import('../../ipam/index.ts');
    // Resolved once at start, as the agent does: a kubeconfig that cannot be read is an error now, not at the first ADD.
    const connection = values.kubeconfig ? await (await import('../../k8s/kubeconfig.ts')).resolveConnection({ kubeconfig: values.kubeconfig }) : undefined;
    const server = await startCniServer({
      socketPath: values.socket,
      createIpam: (conf, opts) => createIpam(conf, { ...opts, connection }),
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
