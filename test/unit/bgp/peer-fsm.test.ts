// The per-peer state machine driven by hand: a fake clock and fake TCP
// connections, the peer's messages built with the real encoder. Each test
// names the RFC 4271 transition it checks.
import t from 'tap';
import { PeerFsm, type PeerEvents, type PeerState, type SessionDown } from '../../../src/bgp/session/peer-fsm.ts';
import type { Negotiated, SessionConfig } from '../../../src/bgp/session/negotiate.ts';
import { encodeKeepalive, encodeNotification } from '../../../src/bgp/wire/messages.ts';
import { encodeOpen, type OpenMessage } from '../../../src/bgp/wire/open.ts';
import { encodeAnnouncement } from '../../../src/bgp/wire/update-encode.ts';
import type { DecodedUpdate } from '../../../src/bgp/wire/update.ts';
import { FakeClock } from '../proxier/fake-clock.ts';
import { FakeConnection, fakeDialer } from './fake-connection.ts';
import { msg } from './wire-builders.ts';

const session: SessionConfig = { localAs: 64512, routerId: '10.0.0.1', peerAs: 64512, holdTime: 90, families: [4, 6] };

const peerOpen = (o: Partial<OpenMessage> & { gr?: boolean } = {}): Buffer =>
  encodeOpen({
    asNumber: o.asNumber ?? 64512,
    holdTime: o.holdTime ?? 30,
    routerId: o.routerId ?? '10.0.0.2',
    capabilities: {
      multiprotocol: [{ afi: 1, safi: 1 }],
      routeRefresh: true,
      enhancedRouteRefresh: false,
      fourOctetAs: o.asNumber ?? 64512,
      gracefulRestart: o.gr ? { restarting: false, time: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] } : undefined,
      other: [],
    },
  });

function lab(o: { passive?: boolean; session?: Partial<SessionConfig> } = {}) {
  const clock = new FakeClock();
  const { dial, dialled } = fakeDialer();
  const log = { states: [] as PeerState[], established: [] as Negotiated[], updates: [] as DecodedUpdate[], down: [] as SessionDown[] };
  const events: PeerEvents = {
    stateChanged: (_from, to) => log.states.push(to),
    established: (n) => log.established.push(n),
    update: (u) => log.updates.push(u),
    down: (d) => log.down.push(d),
  };
  const fsm = new PeerFsm({ session: { ...session, ...o.session }, peerAddress: '10.0.0.2', port: 179, passive: o.passive ?? false, clock, dial, events });
  return { clock, dialled, log, fsm };
}

/** Dials, opens, exchanges OPEN and KEEPALIVE: the peer ends Established on the first dialled connection. */
function establish(l: ReturnType<typeof lab>, open = peerOpen()): FakeConnection {
  l.fsm.start();
  const c = l.dialled.at(-1)!;
  c.open();
  c.receive(open, encodeKeepalive());
  return c;
}

t.test('Idle → Connect → OpenSent → OpenConfirm → Established, OPEN then KEEPALIVE on the wire', async (t) => {
  const l = lab();
  t.equal(l.fsm.state, 'Idle');
  l.fsm.start();
  t.equal(l.fsm.state, 'Connect');
  const c = l.dialled[0];
  t.same({ host: c.remoteAddress, port: c.remotePort }, { host: '10.0.0.2', port: 179 });
  c.open();
  t.equal(l.fsm.state, 'OpenSent');
  t.same(c.types(), ['open']);
  const ours = c.sent[0].type === 'open' ? c.sent[0].open : undefined;
  t.same(ours?.capabilities.multiprotocol, [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }], 'IPv4 and IPv6 unicast offered');
  t.equal(ours?.capabilities.fourOctetAs, 64512);
  t.ok(ours?.capabilities.routeRefresh);
  c.receive(peerOpen());
  t.equal(l.fsm.state, 'OpenConfirm');
  t.same(c.types(), ['open', 'keepalive']);
  c.receive(encodeKeepalive());
  t.equal(l.fsm.state, 'Established');
  t.same(l.log.states, ['Connect', 'OpenSent', 'OpenConfirm', 'Established']);
  t.match(l.log.established[0], { remoteAs: 64512, remoteId: '10.0.0.2', holdTime: 30, keepaliveTime: 10, fourOctetAs: true, families: [4], ibgp: true });
});

t.test('KEEPALIVE every third of the negotiated hold time; UPDATEs reach the events', async (t) => {
  const l = lab();
  const c = establish(l);
  await l.clock.advance(25_000);
  t.same(c.types().filter((x) => x === 'keepalive').length, 1 + 2, 'one in OpenConfirm, then at 10 s and 20 s');
  c.receive(...encodeAnnouncement({ family: 4, prefixes: ['10.244.1.0/26'], nextHop: ['10.0.0.2'], attributes: { origin: 0, asPath: [] } }, { fourOctetAs: true }));
  t.same(l.log.updates[0].announced[4], ['10.244.1.0/26']);
});

t.test('hold timer expiry: NOTIFICATION 4/0, session down (not graceful), Idle, dial again after the idle hold', async (t) => {
  const l = lab();
  const c = establish(l, peerOpen({ gr: true }));
  await l.clock.advance(20_000);
  c.receive(encodeKeepalive()); // restarts the hold timer at 20 s
  await l.clock.advance(29_000);
  t.equal(l.fsm.state, 'Established', 'hold timer restarted by the KEEPALIVE');
  await l.clock.advance(1_000);
  t.equal(c.types().at(-1), 'notification 4/0');
  t.ok(c.ended);
  t.equal(l.fsm.state, 'Idle');
  t.match(l.log.down[0], { graceful: false, notification: { code: 4, sent: true } });
  await l.clock.advance(4_999);
  t.equal(l.dialled.length, 1);
  await l.clock.advance(1);
  t.equal(l.dialled.length, 2, 'dialled again after 5 s');
  t.equal(l.fsm.state, 'Connect');
});

t.test('a dial that never connects is retried every connect-retry interval', async (t) => {
  const l = lab();
  l.fsm.start();
  await l.clock.advance(5_000);
  t.equal(l.dialled.length, 2);
  t.ok(l.dialled[0].ended, 'the first attempt is dropped');
  await l.clock.advance(5_000);
  t.equal(l.dialled.length, 3);
});

t.test('a refused dial waits in Active for the retry timer', async (t) => {
  const l = lab();
  l.fsm.start();
  l.dialled[0].drop('ECONNREFUSED');
  t.equal(l.fsm.state, 'Active');
  await l.clock.advance(5_000);
  t.equal(l.dialled.length, 2);
});

t.test('passive: Active without dialling; an accepted connection sends OPEN and goes on to Established', async (t) => {
  const l = lab({ passive: true });
  l.fsm.start();
  t.equal(l.fsm.state, 'Active');
  await l.clock.advance(60_000);
  t.equal(l.dialled.length, 0, 'never dials');
  const c = new FakeConnection({ host: '10.0.0.2', port: 40000 });
  t.ok(l.fsm.accept(c));
  t.equal(l.fsm.state, 'OpenSent');
  c.receive(peerOpen(), encodeKeepalive());
  t.equal(l.fsm.state, 'Established');
});

t.test('a stopped peer refuses incoming connections', async (t) => {
  const l = lab({ passive: true });
  const c = new FakeConnection({ host: '10.0.0.2', port: 40000 });
  t.notOk(l.fsm.accept(c));
  t.ok(c.ended);
});

t.test('OPEN errors are answered with the RFC 4271 6.2 NOTIFICATION', async (t) => {
  const cases: Array<[string, Buffer, string]> = [
    ['a peer AS other than the configured one', peerOpen({ asNumber: 65000 }), 'notification 2/2'],
    ['an iBGP peer using our identifier', peerOpen({ routerId: '10.0.0.1' }), 'notification 2/3'],
    ['hold time 1', (() => { const b = peerOpen(); b.writeUInt16BE(1, 22); return b; })(), 'notification 2/6'],
  ];
  for (const [name, open, want] of cases) {
    const l = lab();
    l.fsm.start();
    const c = l.dialled[0];
    c.open();
    c.receive(open);
    t.equal(c.types().at(-1), want, name);
    t.equal(l.fsm.state, 'Idle', `${name}: Idle`);
  }
});

t.test('messages out of order are FSM errors (RFC 6608 subcodes)', async (t) => {
  const update = encodeAnnouncement({ family: 4, prefixes: ['10.0.0.0/8'], nextHop: ['10.0.0.2'], attributes: { origin: 0, asPath: [] } }, { fourOctetAs: true })[0];
  const inOpenSent = lab();
  inOpenSent.fsm.start();
  inOpenSent.dialled[0].open();
  inOpenSent.dialled[0].receive(update);
  t.equal(inOpenSent.dialled[0].types().at(-1), 'notification 5/1');

  const inOpenConfirm = lab();
  inOpenConfirm.fsm.start();
  inOpenConfirm.dialled[0].open();
  inOpenConfirm.dialled[0].receive(peerOpen(), update);
  t.equal(inOpenConfirm.dialled[0].types().at(-1), 'notification 5/2');

  const inEstablished = lab();
  const c = establish(inEstablished);
  c.receive(peerOpen());
  t.equal(c.types().at(-1), 'notification 5/3');
  t.equal(inEstablished.log.down.length, 1);
});

t.test('a malformed UPDATE in Established: NOTIFICATION 3/1 and the session goes down', async (t) => {
  const l = lab();
  const c = establish(l);
  c.receive(msg(2, [0, 0, 0, 50]));
  t.equal(c.types().at(-1), 'notification 3/1');
  t.match(l.log.down[0], { notification: { code: 3, subcode: 1, sent: true } });
});

t.test('a NOTIFICATION from the peer ends the session without graceful restart', async (t) => {
  const l = lab();
  const c = establish(l, peerOpen({ gr: true }));
  c.receive(encodeNotification({ code: 6, subcode: 2, data: Buffer.alloc(0) }));
  t.match(l.log.down[0], { graceful: false, notification: { code: 6, subcode: 2, sent: false } });
});

t.test('graceful restart: a TCP reset with the capability on both sides keeps the routes (graceful down)', async (t) => {
  const l = lab({ session: { gracefulRestart: { restartTime: 120, restarting: false } } });
  const c = establish(l, peerOpen({ gr: true }));
  t.ok(l.log.established[0].peerGracefulRestart);
  c.drop();
  t.match(l.log.down[0], { graceful: true, notification: undefined });
  t.equal(l.fsm.state, 'Active', 'no error, so no idle hold');
});

t.test('graceful restart: a new OPEN while Established replaces the old session', async (t) => {
  const l = lab({ session: { gracefulRestart: { restartTime: 120, restarting: false } } });
  const old = establish(l, peerOpen({ gr: true }));
  const fresh = new FakeConnection({ host: '10.0.0.2', port: 40001 });
  l.fsm.accept(fresh);
  fresh.receive(peerOpen({ gr: true }), encodeKeepalive());
  t.ok(old.ended);
  t.match(l.log.down[0], { graceful: true });
  t.equal(l.log.established.length, 2);
  t.equal(l.fsm.state, 'Established');
});

t.test('collision (RFC 4271 6.8): the connection dialled by the lower identifier is closed with Cease 6/7', async (t) => {
  for (const [localId, survivor] of [['10.0.0.1', 'in'], ['10.0.0.9', 'out']] as const) {
    const l = lab({ session: { routerId: localId } });
    l.fsm.start();
    const out = l.dialled[0];
    out.open();
    const inc = new FakeConnection({ host: '10.0.0.2', port: 40000 });
    l.fsm.accept(inc);
    out.receive(peerOpen());
    inc.receive(peerOpen());
    const [keep, lose] = survivor === 'in' ? [inc, out] : [out, inc];
    t.equal(lose.types().at(-1), 'notification 6/7', `local ${localId}: the ${survivor === 'in' ? 'outgoing' : 'incoming'} connection loses`);
    t.notOk(keep.ended);
    keep.receive(encodeKeepalive());
    t.equal(l.fsm.state, 'Established');
  }
});

t.test('a second connection while Established (no graceful restart) is refused with Cease 6/7', async (t) => {
  const l = lab();
  const c = establish(l);
  const extra = new FakeConnection({ host: '10.0.0.2', port: 40002 });
  l.fsm.accept(extra);
  extra.receive(peerOpen());
  t.equal(extra.types().at(-1), 'notification 6/7');
  t.notOk(c.ended);
  t.equal(l.fsm.state, 'Established');
});

t.test('stop: Cease 6/2, Idle, no more dialling', async (t) => {
  const l = lab();
  const c = establish(l);
  l.fsm.stop();
  t.equal(c.types().at(-1), 'notification 6/2');
  t.equal(l.fsm.state, 'Idle');
  await l.clock.advance(120_000);
  t.equal(l.dialled.length, 1);
});

t.test('the idle hold doubles per failure up to its ceiling (5, 10, 20, 30 s)', async (t) => {
  const l = lab();
  l.fsm.start();
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    const c = l.dialled.at(-1)!;
    c.open();
    c.receive(peerOpen({ asNumber: 1 }));
    const before = l.dialled.length;
    let waited = 0;
    while (l.dialled.length === before) {
      await l.clock.advance(1_000);
      waited += 1;
    }
    waits.push(waited);
  }
  t.same(waits, [5, 10, 20, 30]);
});
