// The agent's CNI server component answers the shim's wire format on its
// socket (a VERSION call needs no kernel), and stops cleanly.
import t from 'tap';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CniServerComponent } from '../../../src/cni/component.ts';
import { pino } from 'pino';
import { silentLogger } from '../../../src/base/log.ts';
import type { AgentContext } from '../../../src/agent/component.ts';

function call(socket: string, env: Record<string, string>, stdin: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    const chunks: Buffer[] = [];
    c.on('data', (d) => chunks.push(d));
    c.on('end', () => resolve(Buffer.concat(chunks)));
    c.on('error', reject);
    const envBlock = Object.entries(env).map(([k, v]) => `${k}=${v}\0`).join('');
    c.end(Buffer.from(`${envBlock}\0${stdin}`));
  });
}

t.test('serves calls on its socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netlet-cni-comp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'cni.sock');
  const ctx = { log: silentLogger, nodeName: 'node-a' } as unknown as AgentContext;
  const comp = new CniServerComponent(ctx, { socket });
  t.equal(comp.healthy(), false, 'not healthy before start');
  await comp.start();
  t.equal(comp.healthy(), true);
  const reply = await call(socket, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
  t.equal(reply[0], 0, 'exit status 0');
  t.equal(JSON.parse(reply.subarray(1).toString()).cniVersion, '0.4.0');
  const bad = await call(socket, { CNI_COMMAND: 'ADD' }, '{}');
  t.equal(bad[0], 1, 'a failing call has exit status 1');
  t.equal(JSON.parse(bad.subarray(1).toString()).code, 4, 'and the CNI error');
  await comp.stop();
  t.equal(comp.healthy(), false, 'stopped');
});

t.test('a failed call is logged at warn, naming the container, its netns and the error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netlet-cni-comp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'cni.sock');
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const comp = new CniServerComponent({ log, nodeName: 'node-a' } as unknown as AgentContext, { socket });
  await comp.start();
  t.teardown(() => comp.stop());
  const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c-bad', CNI_NETNS: '/run/netns/pod-x', CNI_IFNAME: 'eth0' };
  const reply = await call(socket, env, '{"cniVersion":"1.0.0","name":"n","type":"netlet-cni","mode":"mesh","ipam":{}}');
  t.equal(reply[0], 1);
  const failed = lines.find((l) => l.msg === 'cni-server: CNI call failed');
  t.match(failed, { level: 40, command: 'ADD', containerID: 'c-bad', netns: '/run/netns/pod-x', ifname: 'eth0', code: 7, err: /mode/ });
  const ok = await call(socket, { CNI_COMMAND: 'VERSION' }, '');
  t.equal(ok[0], 0);
  t.equal(lines.filter((l) => l.msg === 'cni-server: CNI call failed').length, 1, 'a call that works is not logged');
});

// An overlapping agent restart (deploy/'s maxSurge): the new agent's server
// takes the socket over while the old one still runs. The old one's stop
// must not remove the new one's socket (a listening Unix socket used to be
// unlinked by path when it closed), and the last one to stop removes it.
t.test('an overlapping server takes the socket over; the old one stopping leaves it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netlet-cni-comp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'cni.sock');
  const ctx = { log: silentLogger, nodeName: 'node-a' } as unknown as AgentContext;
  const old = new CniServerComponent(ctx, { socket });
  await old.start();
  const next = new CniServerComponent(ctx, { socket });
  await next.start();
  await old.stop();
  t.ok(existsSync(socket), 'the socket is still there');
  const reply = await call(socket, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
  t.equal(reply[0], 0, 'and the new server answers on it');
  await next.stop();
  t.notOk(existsSync(socket), 'the last server to stop removes it');
});
