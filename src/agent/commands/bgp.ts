// `netlet bgp status`: the running agent's BGP sessions, read from its
// status socket (bgp.statusSocket), as birdc's "show protocols" lists BIRD's.

import { request } from 'node:http';
import { NetletError } from '../../base/errors.ts';
import type { BgpStatus } from '../../bgp/component.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../command.ts';

const HELP = `usage: netlet bgp status [--socket PATH] [--json]
       netlet bgp refresh PEER [--socket PATH]
  status          the sessions: peer, state, uptime, prefixes, last error
  refresh PEER    ask PEER (its address or its name in status) to send its routes again (ROUTE-REFRESH)
  --socket PATH   the agent's bgp.statusSocket (default /run/netlet/bgp.sock)
  --json          print the status document as JSON`;

function postRefresh(socketPath: string, peer: string): Promise<{ status: number; body: { error?: string; refreshed?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'POST', path: `/refresh?peer=${encodeURIComponent(peer)}`, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (err) => reject(new NetletError('ERR_BGP_STATUS', `cannot reach the agent's BGP socket ${socketPath} (is the agent running with bgp.enabled?): ${err.message}`)));
    req.end();
  });
}

function fetchStatus(socketPath: string): Promise<BgpStatus> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/status', timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as BgpStatus);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (err) => reject(new NetletError('ERR_BGP_STATUS', `cannot read BGP status from ${socketPath} (is the agent running with bgp.enabled?): ${err.message}`)));
    req.end();
  });
}

function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${m}m` : m ? `${m}m${s % 60}s` : `${s}s`;
}

/** The status as a table, one row per peer. */
export function formatStatus(status: BgpStatus, now = Date.now()): string {
  const head = ['PEER', 'ADDRESS', 'AS', 'STATE', 'SINCE', 'RECEIVED', 'SENT', 'LAST ERROR'];
  const rows = status.peers.map((p) => [p.name, p.address, String(p.asNumber), p.state, duration(now - p.since), String(p.prefixesReceived), String(p.prefixesSent), p.lastError ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [`BGP router ID ${status.routerId}, local AS ${status.asNumber}, ${status.peers.length} peer(s)`, line(head), ...rows.map(line)].join('\n') + '\n';
}

export const bgpCommand: Command = {
  summary: "show the agent's BGP sessions",
  async run(argv: string[]): Promise<number> {
    const [sub, ...rest] = argv;
    if (sub === 'refresh') {
      const [peer, ...flags] = rest;
      if (!peer || peer.startsWith('-')) throw new NetletError('ERR_USAGE', `bgp refresh takes the peer first\n${HELP}`);
      const { values } = parseCommandLine(flags, { socket: { type: 'string', default: '/run/netlet/bgp.sock' } }, HELP);
      const r = await postRefresh(values.socket, peer);
      if (r.body.error) {
        process.stderr.write(`bgp refresh: ${r.body.error}\n`);
        return 1;
      }
      process.stdout.write(`ROUTE-REFRESH sent to ${r.body.refreshed}\n`);
      return 0;
    }
    if (sub !== 'status') throw new NetletError('ERR_USAGE', `${sub ? `unknown bgp command '${sub}'` : 'missing bgp command'}\n${HELP}`);
    const { values } = parseCommandLine(rest, { socket: { type: 'string', default: '/run/netlet/bgp.sock' }, json: { type: 'boolean', default: false } }, HELP);
    const status = await fetchStatus(values.socket);
    process.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
    return 0;
  },
};
