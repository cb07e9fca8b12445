// What kube-apiserver fills in or rejects on write, for the fields netlet's
// tests meet: name validation (422 Invalid with the apimachinery wording),
// Service defaults and ClusterIP/NodePort allocation, the IPAMBlock spec.

import type { ResourceInfo } from './resources.ts';
import { invalid } from './status.ts';

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Name rules per resource (k8s.io/apimachinery/pkg/util/validation). */
export function validateName(r: ResourceInfo, name: string): void {
  let message = '';
  if (r.plural === 'services') {
    if (!DNS1035.test(name) || name.length > 63) {
      message =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, " +
        "and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    }
  } else if (r.plural === 'namespaces') {
    if (!DNS1123_LABEL.test(name) || name.length > 63) {
      message =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with " +
        "an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    }
  } else if (!DNS1123_SUBDOMAIN.test(name) || name.length > 253) {
    message =
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end " +
      "with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  }
  if (message) throw invalid(r, name, [{ field: 'metadata.name', message: `Invalid value: ${JSON.stringify(name)}: ${message}` }]);
}

const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const CIDR6 = /^[0-9a-fA-F:]+\/\d{1,3}$/;

/**
 * The IPAMBlock CRD's schema (deploy/crd-ipamblocks.yaml): spec.cidr a CIDR,
 * spec.node a required string, spec.pool a string; the spec is immutable
 * (its CEL rule `self == oldSelf`).
 */
export function validateIPAMBlock(r: ResourceInfo, obj: any, old?: any): void {
  if (old && JSON.stringify(old.spec) !== JSON.stringify(obj.spec)) {
    throw invalid(r, obj.metadata.name, [{ field: 'spec', message: `Invalid value: "object": an IPAMBlock's spec is immutable` }]);
  }
  const spec = obj.spec;
  const name = obj.metadata.name;
  const causes: { field: string; message: string }[] = [];
  const cidr = spec?.cidr;
  const v4 = typeof cidr === 'string' ? CIDR4.exec(cidr) : null;
  const okV4 = v4 && v4.slice(1, 5).every((o) => Number(o) <= 255) && Number(v4[5]) <= 32;
  const okV6 = typeof cidr === 'string' && CIDR6.test(cidr) && Number(cidr.split('/')[1]) <= 128;
  if (!okV4 && !okV6) causes.push({ field: 'spec.cidr', message: `Invalid value: ${JSON.stringify(cidr ?? null)}: must be a CIDR` });
  if (spec?.node === undefined) causes.push({ field: 'spec.node', message: 'Required value' });
  for (const f of ['node', 'pool']) {
    if (spec?.[f] !== undefined && typeof spec[f] !== 'string') {
      causes.push({ field: `spec.${f}`, message: `Invalid value: ${JSON.stringify(spec[f])}: must be a string` });
    }
  }
  if (causes.length) throw invalid(r, name, causes);
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

function intToIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** ClusterIP and NodePort allocation, like the apiserver's service registry allocators. */
export class ServiceAllocator {
  readonly #base: number;
  readonly #size: number;
  #nextIP = 1;
  readonly #ips = new Set<string>();
  readonly #ports = new Set<number>();
  #nextPort = 30000;

  constructor(serviceCIDR: string) {
    const m = CIDR4.exec(serviceCIDR);
    if (!m) throw new Error(`serviceCIDR must be an IPv4 CIDR: ${serviceCIDR}`);
    const bits = Number(m[5]);
    this.#size = 2 ** (32 - bits);
    this.#base = ipv4ToInt(serviceCIDR.split('/')[0]) & ~(this.#size - 1);
  }

  /** Fills Service defaults and allocations in place; `old` is the stored version on update. */
  defaultService(r: ResourceInfo, svc: any, old: any | undefined): void {
    const spec = (svc.spec ??= {});
    const name = svc.metadata.name;
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
    for (const p of spec.ports ?? []) {
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
    }
    if (spec.type === 'ExternalName') return;
    const oldIP: string | undefined = old?.spec?.clusterIP;
    if (!spec.clusterIP && oldIP) spec.clusterIP = oldIP; // kept from the stored object, as the registry does
    if (oldIP && spec.clusterIP !== oldIP) {
      throw invalid(r, name, [{ field: 'spec.clusterIPs[0]', message: `Invalid value: ${JSON.stringify(spec.clusterIP)}: field is immutable` }]);
    }
    if (!spec.clusterIP) spec.clusterIP = this.#allocateIP();
    else if (spec.clusterIP !== 'None' && !oldIP) {
      if (this.#ips.has(spec.clusterIP)) {
        throw invalid(r, name, [
          { field: 'spec.clusterIPs', message: `Invalid value: ["${spec.clusterIP}"]: failed to allocate IP ${spec.clusterIP}: provided IP is already allocated` },
        ]);
      }
      this.#ips.add(spec.clusterIP);
    }
    spec.clusterIPs ??= [spec.clusterIP];
    if (spec.clusterIP !== 'None' || spec.selector) {
      spec.ipFamilies ??= [spec.clusterIP.includes(':') ? 'IPv6' : 'IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      const oldPorts: any[] = old?.spec?.ports ?? [];
      for (const p of spec.ports ?? []) {
        const same = oldPorts.find((o) => o.port === p.port && o.protocol === p.protocol);
        if (!p.nodePort && same?.nodePort) p.nodePort = same.nodePort;
        if (!p.nodePort) p.nodePort = this.#allocatePort();
        else this.#ports.add(p.nodePort);
      }
    }
  }

  release(svc: any): void {
    const ip = svc?.spec?.clusterIP;
    if (ip) this.#ips.delete(ip);
    for (const p of svc?.spec?.ports ?? []) if (p.nodePort) this.#ports.delete(p.nodePort);
  }

  #allocateIP(): string {
    for (let tries = 0; tries < this.#size; tries++) {
      const n = this.#nextIP;
      this.#nextIP = (this.#nextIP % (this.#size - 2)) + 1;
      const ip = intToIPv4((this.#base + n) >>> 0);
      // .1 is the kubernetes service in a real cluster; hand it out last.
      if (n === 1 && this.#ips.size < this.#size - 3) continue;
      if (!this.#ips.has(ip)) {
        this.#ips.add(ip);
        return ip;
      }
    }
    throw new Error('service CIDR exhausted');
  }

  #allocatePort(): number {
    for (let tries = 0; tries < 2768; tries++) {
      const p = this.#nextPort;
      this.#nextPort = this.#nextPort >= 32767 ? 30000 : this.#nextPort + 1;
      if (!this.#ports.has(p)) {
        this.#ports.add(p);
        return p;
      }
    }
    throw new Error('node port range exhausted');
  }
}
