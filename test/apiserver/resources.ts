// The resources the test API server serves, with the discovery facts kubectl
// needs (plural, singular, kind, verbs, short names) and the field labels each
// one supports in field selectors. Values follow what a real kube-apiserver
// reports in /api/v1 and /apis/<group>/<version>.

export interface ResourceInfo {
  /** '' for the core ("legacy") group. */
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Field labels accepted in fieldSelector besides metadata.name/metadata.namespace. */
  fieldLabels: string[];
  /** True for custom resources: their list items carry kind/apiVersion, built-in ones do not. */
  custom: boolean;
}

export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersionOf(r: ResourceInfo): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** How the API names a resource in messages: "services", "ipamblocks.netlet.io". */
export function qualifiedName(r: ResourceInfo): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

function res(
  group: string,
  version: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceInfo> = {},
): ResourceInfo {
  return {
    group,
    version,
    plural,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    shortNames: [],
    categories: [],
    fieldLabels: [],
    custom: false,
    ...extra,
  };
}

/** The built-in table; custom resources can be added at run time (a CRD being created). */
export function builtinResources(): ResourceInfo[] {
  return [
    res('', 'v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'], fieldLabels: ['status.phase'] }),
    res('', 'v1', 'nodes', 'Node', false, { shortNames: ['no'], fieldLabels: ['spec.unschedulable'] }),
    res('', 'v1', 'pods', 'Pod', true, {
      shortNames: ['po'],
      categories: ['all'],
      fieldLabels: [
        'spec.nodeName',
        'spec.restartPolicy',
        'spec.schedulerName',
        'spec.serviceAccountName',
        'spec.hostNetwork',
        'status.phase',
        'status.podIP',
        'status.nominatedNodeName',
      ],
    }),
    res('', 'v1', 'services', 'Service', true, {
      shortNames: ['svc'],
      categories: ['all'],
      fieldLabels: ['spec.clusterIP', 'spec.type'],
    }),
    res('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
    res('', 'v1', 'events', 'Event', true, { shortNames: ['ev'], fieldLabels: ['involvedObject.kind', 'involvedObject.name', 'involvedObject.namespace', 'reason', 'type'] }),
    res('events.k8s.io', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
    res('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true, { fieldLabels: ['addressType'] }),
    res('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
    res('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, {
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
    }),
    res('netlet.io', 'v1', 'ipamblocks', 'IPAMBlock', false, { custom: true }),
  ];
}

/** A resource described by a CustomResourceDefinition object, or undefined when it does not describe one. */
export function resourcesFromCRD(crd: any): ResourceInfo[] {
  const spec = crd?.spec;
  if (!spec?.group || !spec?.names?.plural || !spec?.names?.kind || !Array.isArray(spec.versions)) return [];
  return spec.versions
    .filter((v: any) => v?.served !== false && typeof v?.name === 'string')
    .map((v: any) =>
      res(spec.group, v.name, spec.names.plural, spec.names.kind, spec.scope !== 'Cluster', {
        singular: spec.names.singular || String(spec.names.kind).toLowerCase(),
        shortNames: spec.names.shortNames ?? [],
        categories: spec.names.categories ?? [],
        custom: true,
      }),
    );
}
