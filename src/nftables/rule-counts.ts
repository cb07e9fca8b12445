// How many rules each chain of netlet's table holds, asked of the kernel
// with one nf_tables rule dump over netlink (NFT_MSG_GETRULE, filtered to
// the table): ~1 ms whatever the number of services, since a rule dump
// carries no set element. nft 1.0.6 reads every set's elements to list any
// chain (~0.5 s at 10k services), so intact() could not look at the rules
// on every poll through nft.

import { createRequire } from 'node:module';
import { constants } from 'node:os';
import type { RawNetlinkSocket } from 'netlink';
import { NetletError } from '../base/errors.ts';
import type { Family } from '../proxier/plan.ts';
import { NETLINK_NETFILTER, NLMSG_DONE, NLMSG_ERROR, NLM_F_DUMP, NLM_F_REQUEST, errorCode, nlmsg, splitMessages } from '../netlink/ctnetlink-codec.ts';
import { TABLE } from './words.ts';

// Only the raw socket of the `netlink` package, through Node's resolver (as netlink/conntrack.ts).
const { RawNetlinkSocket: RawSocket } = createRequire(import.meta.url)('netlink/dist/raw.js') as Pick<typeof import('netlink'), 'RawNetlinkSocket'>;

// include/uapi/linux/netfilter/nfnetlink.h and nf_tables.h.
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_NEWRULE = 6;
const NFT_MSG_GETRULE = 7;
const NFTA_RULE_TABLE = 1;
const NFTA_RULE_CHAIN = 2;
const NFPROTO = { 4: 2, 6: 10 } as const;

/** Rules per chain of netlet's table in one family; an empty map when the table is gone or holds no rule. */
export type RuleCounter = (family: Family) => Promise<Map<string, number>>;

/** A NUL-terminated string attribute, padded to 4 bytes. */
function stringAttr(type: number, value: string): Buffer {
  const len = 4 + Buffer.byteLength(value) + 1;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  out.write(value, 4);
  return out;
}

export function encodeRuleDump(family: Family, seq: number, table = TABLE): Buffer {
  const nfgen = Buffer.from([NFPROTO[family], 0, 0, 0]);
  return nlmsg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE, NLM_F_REQUEST | NLM_F_DUMP, seq, Buffer.concat([nfgen, stringAttr(NFTA_RULE_TABLE, table)]));
}

/** The chain a NEWRULE message's rule is in (after its 4-byte nfgenmsg), or undefined. */
export function ruleChain(payload: Buffer): string | undefined {
  let off = 4;
  while (off + 4 <= payload.length) {
    const len = payload.readUInt16LE(off);
    const type = payload.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || off + len > payload.length) return undefined;
    if (type === NFTA_RULE_CHAIN) return payload.toString('utf8', off + 4, off + len).replace(/\0+$/, '');
    off += (len + 3) & ~3;
  }
  return undefined;
}

/** The kernel's rule counts, one dump on a socket of its own (intact() polls every syncPeriod). */
export const netlinkRuleCounts: RuleCounter = (family) =>
  new Promise((resolve, reject) => {
    let socket: RawNetlinkSocket;
    try {
      socket = new RawSocket(NETLINK_NETFILTER);
    } catch (err) {
      reject(new NetletError('ERR_NFT', `nf_tables netlink socket: ${(err as Error).message}`, { cause: err }));
      return;
    }
    const counts = new Map<string, number>();
    const seq = 1;
    const finish = (err?: Error) => {
      socket.close();
      if (err) reject(err);
      else resolve(counts);
    };
    socket.on('error', (err) => finish(new NetletError('ERR_NFT', `nf_tables rule dump: ${err.message}`, { cause: err })));
    socket.on('message', (buf) => {
      for (const m of splitMessages(buf)) {
        if (m.seq !== seq) continue;
        if (m.type === NLMSG_DONE) return finish();
        if (m.type === NLMSG_ERROR) {
          const errno = errorCode(m.payload);
          // No such table: no rule.
          if (errno === constants.errno.ENOENT) return finish();
          const name = Object.entries(constants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
          return finish(new NetletError('ERR_NFT', `nf_tables rule dump failed: ${name}`));
        }
        if (m.type === ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE)) {
          const chain = ruleChain(m.payload);
          if (chain !== undefined) counts.set(chain, (counts.get(chain) ?? 0) + 1);
        }
      }
    });
    socket.send(encodeRuleDump(family, seq), {}, (err) => {
      if (err) finish(new NetletError('ERR_NFT', `nf_tables rule dump: sendmsg failed: ${err.message}`, { cause: err }));
    });
  });
