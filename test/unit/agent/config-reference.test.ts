import t from 'tap';
import { readFileSync } from 'node:fs';
import { configReference, withConfigReference } from '../../../src/agent/config-reference.ts';

t.test('the README carries the current config reference', async (t) => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  t.equal(withConfigReference(readme), readme, 'run `npm run config-reference` after changing src/agent/config.ts');
});

t.test('every key is listed with its default', async (t) => {
  const ref = configReference();
  t.match(ref, /\| `proxy\.iptables\.syncPeriod` \| duration \| `30s` \|/);
  t.match(ref, /\| `healthzBindAddress` \| string \| `0\.0\.0\.0:10256` \|/);
  t.match(ref, /\| `proxy\.mode` \| iptables \\\| nftables \\\| ipvs \\\| none \|/);
});
