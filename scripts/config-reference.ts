// Rewrites the configuration reference in README.md from the config schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigReference } from '../src/agent/config-reference.ts';

const file = new URL('../README.md', import.meta.url);
writeFileSync(file, withConfigReference(readFileSync(file, 'utf8')));
