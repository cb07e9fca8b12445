// v1 Namespace → slim Namespace (DNS needs to know which namespaces exist).

import type { Namespace } from '../objects.ts';
import { meta } from './fields.ts';

export function convertNamespace(raw: unknown): Namespace {
  return { kind: 'Namespace', meta: meta('Namespace', raw, false).meta };
}
