// Finds one of netlet's N-API addons (native/*.c, built by node-gyp at npm
// install into native/build/Release/). Found by walking up from this file,
// so the same code works from src/ and from the bundles in dist/.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
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
