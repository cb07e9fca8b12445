// v1 Namespace → slim Namespace (DNS needs to know which namespaces exist).

import type { Namespace } from '../objects.ts';
import { meta, stringMap } from './fields.ts';

export function convertNamespace(raw: unknown): Namespace {
  const { meta: m, ctx, labels: rawLabels } = meta('Namespace', raw, false);
  const labels = stringMap(ctx, rawLabels, 'metadata.labels');
  return Object.keys(labels).length ? { kind: 'Namespace', meta: m, labels: { ...labels } } : { kind: 'Namespace', meta: m };
}
