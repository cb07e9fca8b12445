// CNI GC (SPEC.md 1.1): release every attachment of this network that is
// not in cni.dev/valid-attachments: its addresses, and its host veth if one
// is left (found by the alias ADD wrote, so other networks are untouched).
import { closeRtnl, deleteLink, linksByAliasPrefix, openRtnl } from '../netlink/index.ts';
import type { Ipam } from '../ipam/types.ts';
import type { NetConf } from './config.ts';
import { aliasPrefix, hostVethAlias } from './attachment.ts';

export async function cmdGc(conf: NetConf, ipam: Ipam): Promise<{ released: number; vethsRemoved: string[] }> {
  const valid = new Set(conf.validAttachments.map((a) => hostVethAlias(conf.name, a)));
  const removed: string[] = [];
  const host = openRtnl();
  try {
    for (const link of await linksByAliasPrefix(host, aliasPrefix(conf.name))) {
      if (!valid.has(link.alias) && (await deleteLink(host, link.name))) removed.push(link.name);
    }
  } finally {
    closeRtnl(host);
  }
  const released = await ipam.garbageCollect(conf.validAttachments);
  return { released, vethsRemoved: removed };
}
