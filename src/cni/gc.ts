// CNI GC (SPEC.md 1.1): release every attachment of this network that is
// not in cni.dev/valid-attachments: its addresses, and its host veth if one
// is left (found by the alias ADD wrote, so other networks are untouched).
//
// An ADD killed between creating the veth and writing its alias leaves a
// veth with no alias (the kernel ignores IFLA_IFALIAS when it creates a
// link, so the two cannot be one request). Its attachment still holds an
// address (ADD allocates first), so the veth is also looked up by the name
// ADD derives from each leaked attachment.
import { closeRtnl, deleteLink, linksByAliasPrefix, openRtnl } from '../netlink/index.ts';
import type { Ipam } from '../ipam/types.ts';
import type { NetConf } from './config.ts';
import { aliasPrefix, hostVethAlias, hostVethName } from './attachment.ts';

export async function cmdGc(conf: NetConf, ipam: Ipam): Promise<{ released: number; vethsRemoved: string[] }> {
  const valid = new Set(conf.validAttachments.map((a) => hostVethAlias(conf.name, a)));
  const leaked = ((await ipam.attachments?.()) ?? []).filter((a) => !valid.has(hostVethAlias(conf.name, a)));
  const removed: string[] = [];
  const host = openRtnl();
  try {
    for (const link of await linksByAliasPrefix(host, aliasPrefix(conf.name))) {
      if (!valid.has(link.alias) && (await deleteLink(host, link.name))) removed.push(link.name);
    }
    for (const id of leaked) {
      const name = hostVethName(id);
      if (!removed.includes(name) && (await deleteLink(host, name))) removed.push(name);
    }
  } finally {
    closeRtnl(host);
  }
  const released = await ipam.garbageCollect(conf.validAttachments);
  return { released, vethsRemoved: removed };
}
