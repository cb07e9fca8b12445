// A failed iptables sync is reported as a restore failure (BackendSyncError
// 'restore'), which the proxier counts in
// kubeproxy_sync_proxy_rules_iptables_restore_failures_total; the message is
// the tool's own.
import t from 'tap';
import { IptablesBackend } from '../../../src/iptables/backend.ts';
import { silentLogger } from '../../../src/base/log.ts';
import { BackendSyncError } from '../../../src/proxier/backend.ts';

t.test('a sync whose iptables-save fails throws a restore failure with the tool error as its cause', async (t) => {
  const tools = { mode: 'nft' as const, family: 4 as const, restore: 'false', save: 'false' };
  const backend = new IptablesBackend({ tools, log: silentLogger, masqueradeBit: 14, tcpBeLiberal: false });
  const err = await backend.sync({ family: 4, plans: new Map(), changed: new Set(), full: true, nodePortAddresses: [] }).catch((e: unknown) => e);
  t.ok(err instanceof BackendSyncError, 'a BackendSyncError');
  t.equal((err as BackendSyncError).kind, 'restore');
  t.equal((err as BackendSyncError).code, 'ERR_PROXY_SYNC');
  t.equal((err as Error).message, ((err as Error).cause as Error).message, "the tool error's message");
});
