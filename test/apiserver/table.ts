// The server-side printing kubectl asks for on `kubectl get`
// (Accept: application/json;as=Table;v=v1;g=meta.k8s.io): a meta.k8s.io/v1
// Table with the columns kube-apiserver prints for each resource and one row
// per object carrying its metadata (PartialObjectMetadata) or the object.

import type { ResourceInfo } from './resources.ts';
import type { Stored } from './storage.ts';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
  cell: (o: any) => string | number;
}

const col = (name: string, cell: (o: any) => string | number, priority = 0, type = 'string', format = ''): Column => ({
  name,
  type,
  format,
  description: name,
  priority,
  cell,
});

export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const nameCol = col('Name', (o) => o.metadata.name, 0, 'string', 'name');
const ageCol = col('Age', (o) => age(o.metadata.creationTimestamp));
const orNone = (v: string[] | undefined): string => (v && v.length ? v.join(',') : '<none>');

function servicePorts(o: any): string {
  const ports: any[] = o.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`)).join(',');
}

function serviceExternal(o: any): string {
  if (o.spec?.type === 'ExternalName') return o.spec.externalName ?? '<none>';
  const ips = [...(o.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip ?? i.hostname), ...(o.spec?.externalIPs ?? [])];
  if (ips.length) return ips.join(',');
  return o.spec?.type === 'LoadBalancer' ? '<pending>' : '<none>';
}

function nodeStatus(o: any): string {
  const ready = (o.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const s = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  return o.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
}

function nodeRoles(o: any): string {
  const roles = Object.keys(o.metadata.labels ?? {})
    .filter((l) => l.startsWith('node-role.kubernetes.io/'))
    .map((l) => l.slice('node-role.kubernetes.io/'.length));
  return orNone(roles);
}

function podReady(o: any): string {
  const statuses: any[] = o.status?.containerStatuses ?? [];
  const total = (o.spec?.containers ?? []).length;
  return `${statuses.filter((s) => s.ready).length}/${total}`;
}

function sliceEndpoints(o: any): string {
  const addrs = (o.endpoints ?? []).flatMap((e: any) => e.addresses ?? []);
  if (!addrs.length) return '<unset>';
  return addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
}

const COLUMNS: Record<string, Column[]> = {
  '/services': [
    nameCol,
    col('Type', (o) => o.spec?.type ?? ''),
    col('Cluster-IP', (o) => o.spec?.clusterIP ?? '<none>'),
    col('External-IP', serviceExternal),
    col('Port(s)', servicePorts),
    ageCol,
    col('Selector', (o) => (o.spec?.selector ? Object.entries(o.spec.selector).map(([k, v]) => `${k}=${v}`).join(',') : '<none>'), 1),
  ],
  '/pods': [
    nameCol,
    col('Ready', podReady),
    col('Status', (o) => o.status?.phase ?? 'Pending'),
    col('Restarts', (o) => (o.status?.containerStatuses ?? []).reduce((a: number, s: any) => a + (s.restartCount ?? 0), 0), 0, 'integer'),
    ageCol,
    col('IP', (o) => o.status?.podIP ?? '<none>', 1),
    col('Node', (o) => o.spec?.nodeName ?? '<none>', 1),
  ],
  '/nodes': [
    nameCol,
    col('Status', nodeStatus),
    col('Roles', nodeRoles),
    ageCol,
    col('Version', (o) => o.status?.nodeInfo?.kubeletVersion ?? ''),
    col('Internal-IP', (o) => orNone((o.status?.addresses ?? []).filter((a: any) => a.type === 'InternalIP').map((a: any) => a.address)), 1),
  ],
  '/namespaces': [nameCol, col('Status', (o) => o.status?.phase ?? ''), ageCol],
  'discovery.k8s.io/endpointslices': [
    nameCol,
    col('AddressType', (o) => o.addressType ?? ''),
    col('Ports', (o) => orNone((o.ports ?? []).map((p: any) => String(p.port)))),
    col('Endpoints', sliceEndpoints),
    ageCol,
  ],
  // The IPAMBlock CRD's additionalPrinterColumns.
  'netlet.io/ipamblocks': [
    nameCol,
    col('CIDR', (o) => o.spec?.cidr ?? ''),
    col('Node', (o) => o.spec?.node ?? ''),
    col('Pool', (o) => o.spec?.pool ?? ''),
    ageCol,
  ],
  'apiextensions.k8s.io/customresourcedefinitions': [nameCol, col('Created At', (o) => o.metadata.creationTimestamp ?? '', 0, 'date')],
};

function columnsOf(r: ResourceInfo): Column[] {
  return COLUMNS[`${r.group}/${r.plural}`] ?? [nameCol, ageCol];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowOf(columns: Column[], s: Stored, include: IncludeObject): string {
  const cells = JSON.stringify(columns.map((c) => c.cell(s.obj)));
  if (include === 'None') return `{"cells":${cells}}`;
  if (include === 'Object') return `{"cells":${cells},"object":${s.json}}`;
  const meta = JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: s.obj.metadata });
  return `{"cells":${cells},"object":${meta}}`;
}

function definitions(columns: Column[]): string {
  return JSON.stringify(columns.map(({ cell: _c, ...d }) => d));
}

/** A Table for a page of a LIST. */
export function tableJSON(r: ResourceInfo, items: Stored[], metadata: Record<string, unknown>, include: IncludeObject): string {
  const columns = columnsOf(r);
  const rows = items.map((s) => rowOf(columns, s, include)).join(',');
  return `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":${JSON.stringify(metadata)},"columnDefinitions":${definitions(columns)},"rows":[${rows}]}`;
}

/** A one-row Table for a WATCH event; column definitions only on the first event, as the apiserver does. */
export function tableEventObject(r: ResourceInfo, s: Stored, include: IncludeObject, first: boolean): string {
  const columns = columnsOf(r);
  const defs = first ? definitions(columns) : '[]';
  return `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"${s.rv}"},"columnDefinitions":${defs},"rows":[${rowOf(columns, s, include)}]}`;
}

/** Does this Accept header ask for a Table? */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}
