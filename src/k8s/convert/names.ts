// The API server's rules for names (k8s.io/apimachinery validation: DNS-1123
// and DNS-1035 labels and subdomains, IANA service names, label values),
// applied to every object whatever its source: the manifest folder and a
// hand-edited snapshot are not checked by any API server, and these strings
// end up in iptables comments, chain-name hashes and DNS answers. Each check
// returns the reason a value is refused, or '' when it is valid.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** One pattern, no split: conversion of EndpointSlices is the reflector's hot path. */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_MAX = 63;
const SUBDOMAIN_MAX = 253;
const IANA_SVC_NAME_MAX = 15;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function tooLong(v: string, max: number): string {
  return v.length > max ? `must be no more than ${max} characters (has ${v.length})` : '';
}

/** A DNS-1123 label: namespaces, port names, hostnames. */
export function dns1123LabelProblem(v: string): string {
  return tooLong(v, LABEL_MAX) || (DNS1123_LABEL.test(v) ? '' : "must be lower-case letters, digits and '-', starting and ending with a letter or digit (DNS-1123 label)");
}

/** A DNS-1035 label: Service names (they become DNS names and must start with a letter). */
export function dns1035LabelProblem(v: string): string {
  return tooLong(v, LABEL_MAX) || (DNS1035_LABEL.test(v) ? '' : "must be lower-case letters, digits and '-', starting with a letter and ending with a letter or digit (DNS-1035 label)");
}

/** A DNS-1123 subdomain: dot-separated DNS-1123 labels (Node, Pod, EndpointSlice names). */
export function dns1123SubdomainProblem(v: string): string {
  const long = tooLong(v, SUBDOMAIN_MAX);
  if (long) return long;
  return DNS1123_SUBDOMAIN.test(v) ? '' : "must be dot-separated lower-case letters, digits and '-', each part starting and ending with a letter or digit (DNS-1123 subdomain)";
}

/**
 * An IANA service name (a named targetPort, a container port name): up to 15
 * lower-case letters, digits and single hyphens, with at least one letter.
 */
export function ianaSvcNameProblem(v: string): string {
  const long = tooLong(v, IANA_SVC_NAME_MAX);
  if (long) return long;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) || v.includes('--') || !/[a-z]/.test(v)) {
    return "must be lower-case letters, digits and single '-', with at least one letter, starting and ending with a letter or digit (IANA service name)";
  }
  return '';
}

/** A label value: empty, or up to 63 letters, digits, '-', '_', '.' starting and ending with a letter or digit. */
export function labelValueProblem(v: string): string {
  return tooLong(v, LABEL_MAX) || (LABEL_VALUE.test(v) ? '' : "must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit (label value)");
}
