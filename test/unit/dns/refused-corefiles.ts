// Table rows of Corefiles netlet must refuse, and the one check they all get:
// a ConfigError that names the key and says why.
import type { Test } from 'tap';
import { ConfigError } from '../../../src/base/errors.ts';
import { parseCorefile } from '../../../src/dns/corefile/parse.ts';

export interface RefusedCorefile {
  name: string;
  corefile: string;
  key: string;
  message: RegExp;
}

export function checkRefused(t: Test, rows: readonly RefusedCorefile[]): void {
  for (const r of rows) {
    let err: unknown = null;
    try {
      parseCorefile(r.corefile, 'Corefile');
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ConfigError, `${r.name}: a ConfigError`);
    t.equal((err as ConfigError).key, r.key, `${r.name}: names ${r.key}`);
    t.match((err as Error).message, r.message, `${r.name}: says why`);
  }
}
