// The nf_tables element codec against the bytes nft 1.0.6 sends for the same
// commands (read with `strace -xx -e trace=sendmsg nft …`): only the ACK flag
// differs (netlet waits for each message's answer) and nft's extra
// NFTA_SET_ELEM_LIST_SET_ID, which names a set made in the same batch.
import t from 'tap';
import { VERDICT, encodeBatchBegin, encodeBatchEnd, encodeDelSetElements, encodeFlushSet, encodeNewSetElements } from '../../../src/netlink/nftables-codec.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+|#[^\n]*/g, ''), 'hex');
const m = { family: 4 as const, table: 't', set: 'v' };
const vipKey = hex('0a600001 06000000 00500000'); // 10.96.0.1 . tcp . 80

t.test('the batch frame: BEGIN and END, AF_UNSPEC, res_id NFNL_SUBSYS_NFTABLES in network order', async (t) => {
  t.same(encodeBatchBegin(0), hex('14000000 1000 0100 00000000 00000000  00 00 000a'));
  t.same(encodeBatchEnd(2), hex('14000000 1100 0100 02000000 00000000  00 00 000a'));
});

t.test('DELSETELEM: table, set, the keys only', async (t) => {
  t.same(
    encodeDelSetElements(1, m, [{ key: vipKey, data: { code: VERDICT.goto, chain: 'c' } }]),
    hex(`
      40000000 0e0a 0500 01000000 00000000   # len 64, NFTABLES<<8|DELSETELEM, REQUEST|ACK, seq 1
      02 00 0000                              # AF_INET, v0, res_id 0
      0600 0100 7400 0000                     # LIST_TABLE "t"
      0600 0200 7600 0000                     # LIST_SET "v"
      1c00 0380                               # LIST_ELEMENTS, nested
        1800 0180                             #   LIST_ELEM, nested
          1400 0180                           #     KEY, nested
            1000 0100 0a600001 06000000 00500000  # DATA_VALUE
    `),
  );
});

t.test('NEWSETELEM with a verdict: goto c', async (t) => {
  t.same(
    encodeNewSetElements(1, m, [{ key: vipKey, data: { code: VERDICT.goto, chain: 'c' } }]),
    hex(`
      58000000 0c0a 0504 01000000 00000000   # len 88, NEWSETELEM, REQUEST|ACK|CREATE
      02 00 0000
      0600 0100 7400 0000
      0600 0200 7600 0000
      3400 0380
        3000 0180
          1400 0180 1000 0100 0a600001 06000000 00500000
          1800 0280                           #     DATA, nested
            1400 0280                         #       DATA_VERDICT, nested
              0800 0100 fffffffc              #         CODE NFT_GOTO (-4, big-endian)
              0600 0200 6300 0000             #         CHAIN "c"
    `),
  );
});

t.test('NEWSETELEM with concatenated data: 10.96.0.9 . 80 . 2 : 10.1.2.3 . 8080', async (t) => {
  const key = hex('0a600009 00500000 02000000');
  t.same(
    encodeNewSetElements(1, { ...m, set: 'm' }, [{ key, data: hex('0a010203 1f900000') }]),
    hex(`
      50000000 0c0a 0504 01000000 00000000
      02 00 0000
      0600 0100 7400 0000
      0600 0200 6d00 0000
      2c00 0380
        2800 0180
          1400 0180 1000 0100 0a600009 00500000 02000000
          1000 0280 0c00 0100 0a010203 1f900000
    `),
  );
});

t.test('a drop verdict has no chain; a flush has no element list', async (t) => {
  const msg = encodeNewSetElements(3, { family: 6, table: 'netlet', set: 'x' }, [{ key: hex('00500000'), data: { code: VERDICT.drop } }]);
  t.equal(msg[16], 10, 'AF_INET6');
  t.ok(msg.includes(hex('0800 0100 00000000')), 'CODE NF_DROP');
  t.notOk(msg.includes(hex('0200 6300')), 'no chain');
  t.same(
    encodeFlushSet(4, { family: 4, table: 't', set: 'd' }),
    hex(`
      24000000 0e0a 0500 04000000 00000000
      02 00 0000
      0600 0100 7400 0000
      0600 0200 6400 0000
    `),
  );
});
