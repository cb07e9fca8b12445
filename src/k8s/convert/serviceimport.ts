// multicluster.x-k8s.io/v1alpha1 ServiceImport → slim ServiceImport: what
// DNS answers for a clusterset name (MCS API, KEP-1645).

import type { ServiceImport } from '../objects.ts';
import { describe, dnsLabel, fail, ipList, list, meta, port, protocol, record } from './fields.ts';
import type { Ctx, Raw } from './fields.ts';

export const IMPORT_TYPES = ['ClusterSetIP', 'Headless'] as const;

/** One of spec.ports: its name becomes a DNS label (`_name._tcp`), so it is one. */
export function importPort(ctx: Ctx, v: unknown, field: string): ServiceImport['ports'][number] {
  const p = record(ctx, v, field);
  if (!p) return fail(ctx, field, 'expected a mapping, got null');
  return { name: dnsLabel(ctx, p.name, `${field}.name`), protocol: protocol(ctx, p.protocol, `${field}.protocol`), port: port(ctx, p.port, `${field}.port`) };
}

export function convertServiceImport(raw: unknown): ServiceImport {
  const { meta: m, ctx } = meta('ServiceImport', raw, true);
  const spec = record(ctx, (raw as Raw).spec, 'spec');
  if (!spec) fail(ctx, 'spec', 'required');
  const type = spec.type;
  if (!(IMPORT_TYPES as readonly unknown[]).includes(type)) fail(ctx, 'spec.type', `must be ClusterSetIP or Headless, got ${describe(type)}`);
  const ports: ServiceImport['ports'] = [];
  const rawPorts = list(ctx, spec.ports, 'spec.ports');
  for (let i = 0; i < rawPorts.length; i++) ports.push(importPort(ctx, rawPorts[i], `spec.ports[${i}]`));
  // sessionAffinity is read by the service proxy of an MCS implementation, not by DNS: netlet keeps only what it answers from.
  return { kind: 'ServiceImport', meta: m, type: type as ServiceImport['type'], ips: type === 'ClusterSetIP' ? ipList(ctx, spec.ips, 'spec.ips') : [], ports };
}
