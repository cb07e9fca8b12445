// `netlet cleanup` for the nftables mode: netlet's tables (`ip netlet`,
// `ip6 netlet`) and, with --kube-proxy, kube-proxy's nftables mode's
// (`ip kube-proxy`, `ip6 kube-proxy`). A table is deleted whole: nothing of
// anyone else's lives in it, and every other table is left alone.

import type { CleanupReport } from '../proxier/backend-kind.ts';
import { applyScript, listTable, systemNft } from './nft.ts';
import type { NftRunner } from './nft.ts';
import { KUBE_PROXY_TABLE, TABLE, wordsFor } from './words.ts';

export async function cleanupTables(opts: { kubeProxy: boolean }, nft: NftRunner = systemNft): Promise<CleanupReport[]> {
  const tables = opts.kubeProxy ? [TABLE, KUBE_PROXY_TABLE] : [TABLE];
  const reports: CleanupReport[] = [];
  for (const family of [4, 6] as const) {
    const w = wordsFor(family);
    for (const table of tables) {
      const report: CleanupReport = { what: `nftables ${w.ip} ${table}`, unit: 'table', removed: 0 };
      try {
        if ((await listTable(nft, w, table)).exists) {
          await applyScript(nft, `delete table ${w.ip} ${table}\n`);
          report.removed = 1;
        }
      } catch (err) {
        report.error = (err as Error).message;
      }
      reports.push(report);
    }
  }
  return reports;
}
