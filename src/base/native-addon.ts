// Finds one of netlet's N-API addons (native/*.c, built by node-gyp at npm
// install into native/build/Release/). Found by walking up from this file,
// so the same code works from src/ and from the bundles in dist/.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon `native/build/Release/<name>.node`, or undefined when it is not built. */
export function findAddon<T>(name: string): T | undefined {
  const file = join('native', 'build', 'Release', `${name}.node`);
  const require = createRequire(import.meta.url);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, file);
    if (existsSync(candidate)) return require(candidate) as T;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The addons name errors ERRNO_<n>; callers (node:dgram and node:child_process users) expect EADDRINUSE, ENOENT and friends. */
export function withErrnoName(err: NodeJS.ErrnoException): NodeJS.ErrnoException {
  const m = /^ERRNO_(\d+)$/.exec(err.code ?? '');
  if (!m) return err;
  const errno = Number(m[1]);
  const name = Object.entries(constants.errno).find(([, n]) => n === errno)?.[0];
  if (name) {
    err.code = name;
    err.errno = -errno;
    err.message = `${err.message} (${name})`;
  }
  return err;
}
