// Running Debian's iperf3 client inside a namespace and reading its -J
// report. One TCP stream; the first second is omitted (-O 1) so TCP slow
// start does not weigh on a 5-second run.

import { inNetns } from '../../src/agent/demo/lab.ts';

export interface IperfResult {
  /** Receiver-side goodput, Gbit/s. */
  gbps: number;
  retransmits: number;
}

/** The receiver's throughput and the sender's retransmits from `iperf3 -J` output. */
export function parseIperf3Json(text: string): IperfResult {
  let doc: { error?: string; end?: { sum_received?: { bits_per_second?: number }; sum_sent?: { retransmits?: number } } };
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`iperf3 printed no JSON report: ${text.slice(0, 200)}`);
  }
  if (doc.error) throw new Error(`iperf3: ${doc.error}`);
  const bps = doc.end?.sum_received?.bits_per_second;
  if (typeof bps !== 'number') throw new Error('iperf3 report has no end.sum_received.bits_per_second');
  return { gbps: bps / 1e9, retransmits: doc.end?.sum_sent?.retransmits ?? 0 };
}

/**
 * One client run from `netns` to host:port. The server may still be starting
 * (or finishing the previous test: iperf3 serves one at a time), so a refused
 * or busy server is retried for a few seconds.
 */
export async function iperf3(netns: string, host: string, port: number, seconds: number): Promise<IperfResult> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const out = await inNetns(netns, 'iperf3', ['-c', host, '-p', String(port), '-t', String(seconds), '-O', '1', '-J'], {
        timeoutMs: (seconds + 20) * 1000,
      });
      return parseIperf3Json(out);
    } catch (err) {
      const msg = (err as Error).message;
      // The JSON of a failed run is the error's text (iperf3 exits 1 and prints it on stdout).
      const busy = /refused|busy|unable to connect|No route/i.test(msg);
      if (!busy || Date.now() > deadline) {
        const reason = /"error":\s*"([^"]+)"/.exec(msg)?.[1] ?? msg.slice(0, 300);
        throw new Error(`iperf3 ${netns} → ${host}:${port}: ${reason}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
