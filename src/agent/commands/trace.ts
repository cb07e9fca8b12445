import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { NetletError } from '../../base/errors.ts';
import type { TracePacket } from '../../proxier/backend-kind.ts';
import type { Command } from '../command.ts';
import { proxyBackendKind } from '../proxy-backends.ts';

const HELP = `usage: netlet trace SRC DST:PORT[/tcp|udp|sctp] [options]

Explains where a new connection from SRC to DST:PORT goes through this
node's live iptables rules (or, with --proxy-mode nftables, netlet's nftables
table): which endpoints it can be DNATed to (every one a
random or affinity rule can pick), whether its source is masqueraded, or
whether it is dropped or rejected. IPv6: [fd00::1]:80.

  --proxy-mode MODE         the proxy backend whose rules to read: iptables (default) or nftables
  --mode nft|legacy         iptables backend to read (default: detected)
  --local-addresses A,B     this node's addresses (default: the interfaces' addresses)
  --from-file FILE          read the rules from FILE instead of the kernel: iptables-save
                            output, or the JSON of nft -j list table for nftables
  --json                    print the outcomes as JSON
  -v, --verbose             print every matching rule
  -h, --help                this help
`;

export function parseDestination(spec: string): Omit<TracePacket, 'src'> {
  const m = /^(?:\[([^\]]+)\]|([^:/]+)):(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw new NetletError('ERR_USAGE', `destination ${JSON.stringify(spec)} is not ADDRESS:PORT[/tcp|udp|sctp]`);
  const dst = m[1] ?? m[2];
  const port = Number(m[3]);
  if (!isIP(dst)) throw new NetletError('ERR_USAGE', `${JSON.stringify(dst)} is not an IP address`);
  if (port < 1 || port > 65535) throw new NetletError('ERR_USAGE', `port ${port} is out of range`);
  return { dst, port, proto: (m[4]?.toLowerCase() ?? 'tcp') as TracePacket['proto'] };
}

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address.replace(/%.*$/, '')));
}

export const traceCommand: Command = {
  summary: 'explain where a packet goes through the live rules',
  async run(argv: string[]): Promise<number> {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          'proxy-mode': { type: 'string' },
          mode: { type: 'string' },
          'local-addresses': { type: 'string' },
          'from-file': { type: 'string' },
          json: { type: 'boolean' },
          verbose: { type: 'boolean', short: 'v' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
      });
    } catch (err) {
      throw new NetletError('ERR_USAGE', `${(err as Error).message}\n${HELP}`);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 2) throw new NetletError('ERR_USAGE', `expected SRC and DST:PORT\n${HELP}`);
    const [src, dstSpec] = positionals;
    if (!isIP(src)) throw new NetletError('ERR_USAGE', `source ${JSON.stringify(src)} is not an IP address`);
    const dst = parseDestination(dstSpec);
    const family = isIP(dst.dst) === 6 ? 6 : 4;
    if (isIP(src) !== family) throw new NetletError('ERR_USAGE', 'source and destination are of different IP families');

    const backend = await proxyBackendKind(values['proxy-mode'] ?? 'iptables');
    let rulesText: string | undefined;
    if (values['from-file']) {
      const { readFile } = await import('node:fs/promises');
      rulesText = await readFile(values['from-file'], 'utf8');
    }
    const local = values['local-addresses'] ? values['local-addresses'].split(',').map((s) => s.trim()) : interfaceAddresses();
    const pkt: TracePacket = { src, ...dst };
    const report = await backend.trace({ packet: pkt, localAddresses: local, flavour: values.mode, rulesText });
    if (values.json) process.stdout.write(JSON.stringify({ packet: pkt, outcomes: report.outcomes }, null, 2) + '\n');
    else process.stdout.write(report.describe(values.verbose ?? false) + '\n');
    return 0;
  },
};
