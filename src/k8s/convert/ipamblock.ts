// netlet.io/v1 IPAMBlock → slim IPAMBlock: one block of a pool claimed by one node.

import type { IPAMBlock } from '../objects.ts';
import { cidr, dnsSubdomain, fail, meta, record, string } from './fields.ts';
import type { Raw } from './fields.ts';

export function convertIPAMBlock(raw: unknown): IPAMBlock {
  const { meta: m, ctx } = meta('IPAMBlock', raw, false);
  const spec = record(ctx, (raw as Raw).spec, 'spec');
  if (!spec) fail(ctx, 'spec', 'required');
  if (spec.cidr === undefined || spec.cidr === null) fail(ctx, 'spec.cidr', 'required');
  const node = dnsSubdomain(ctx, spec.node, 'spec.node');
  // A block without an owner would be routed nowhere; claims always name the node.
  if (!node) fail(ctx, 'spec.node', 'required');
  return {
    kind: 'IPAMBlock',
    meta: m,
    cidr: cidr(ctx, spec.cidr, 'spec.cidr'),
    node,
    pool: string(ctx, spec.pool, 'spec.pool'),
  };
}
