// The agent's CNI server component answers the shim's wire format on its
// socket (a VERSION call needs no kernel), and stops cleanly.
import t from 'tap';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CniServerComponent } from '../../../src/cni/component.ts';
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
