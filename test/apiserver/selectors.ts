// Label and field selectors as the API parses them
// (k8s.io/apimachinery/pkg/labels and pkg/fields): label selectors support
// `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>n`,
// `k<n`; field selectors support `=`, `==`, `!=`, all joined by commas (AND).
// `!=` and `notin` also match objects that lack the key, as in the API.

import { badRequest } from './status.ts';

type Op = 'eq' | 'ne' | 'in' | 'notin' | 'exists' | '!exists' | 'gt' | 'lt';

interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

export type Matcher = (get: (key: string) => string | undefined) => boolean;

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((p) => p.trim()).filter((p) => p !== '');
}

function parseLabelRequirement(term: string): Requirement {
  let m = /^!\s*([^\s!=<>(),]+)$/.exec(term);
  if (m) return { key: m[1], op: '!exists', values: [] };
  m = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (m) {
    const values = m[3].split(',').map((v) => v.trim());
    return { key: m[1], op: m[2] as Op, values };
  }
  m = /^([^\s!=<>(),]+)\s*(==|=|!=|>|<)\s*([A-Za-z0-9_.-]*)$/.exec(term);
  if (m) {
    const op: Op = m[2] === '!=' ? 'ne' : m[2] === '>' ? 'gt' : m[2] === '<' ? 'lt' : 'eq';
    if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(m[3])) {
      throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer: "${term}"`);
    }
    return { key: m[1], op, values: [m[3]] };
  }
  m = /^([^\s!=<>(),]+)$/.exec(term);
  if (m) return { key: m[1], op: 'exists', values: [] };
  throw badRequest(`unable to parse requirement: invalid label selector term "${term}"`);
}

function matches(r: Requirement, value: string | undefined): boolean {
  switch (r.op) {
    case 'eq':
      return value === r.values[0];
    case 'ne':
      return value !== r.values[0];
    case 'in':
      return value !== undefined && r.values.includes(value);
    case 'notin':
      return value === undefined || !r.values.includes(value);
    case 'exists':
      return value !== undefined;
    case '!exists':
      return value === undefined;
    case 'gt':
      return value !== undefined && /^-?\d+$/.test(value) && Number(value) > Number(r.values[0]);
    case 'lt':
      return value !== undefined && /^-?\d+$/.test(value) && Number(value) < Number(r.values[0]);
  }
}

function matcherOf(reqs: Requirement[]): Matcher | undefined {
  if (reqs.length === 0) return undefined;
  return (get) => reqs.every((r) => matches(r, get(r.key)));
}

/** undefined when the selector selects everything. */
export function parseLabelSelector(s: string | null): Matcher | undefined {
  if (!s) return undefined;
  return matcherOf(splitTop(s).map(parseLabelRequirement));
}

export interface FieldSelector {
  matcher: Matcher;
  /** metadata.name=X when the selector pins one name (lets GET-like watches skip the scan). */
  name?: string;
}

export function parseFieldSelector(s: string | null, supported: string[]): FieldSelector | undefined {
  if (!s) return undefined;
  const reqs: Requirement[] = [];
  let name: string | undefined;
  for (const term of splitTop(s)) {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    const key = m[1].trim();
    if (key !== 'metadata.name' && key !== 'metadata.namespace' && !supported.includes(key)) {
      throw badRequest(`field label not supported: ${key}`);
    }
    const op: Op = m[2] === '!=' ? 'ne' : 'eq';
    reqs.push({ key, op, values: [m[3].trim()] });
    if (key === 'metadata.name' && op === 'eq') name = m[3].trim();
  }
  const matcher = matcherOf(reqs);
  return matcher ? { matcher, name } : undefined;
}

/** The value of a field label on an object, as the API's field sets render it (booleans and numbers as text). */
export function fieldValue(obj: any, path: string): string | undefined {
  let cur = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return path === 'metadata.namespace' ? '' : undefined;
    cur = cur[part];
  }
  if (cur === undefined || cur === null) {
    // Unset fields read as the empty string in the API's field sets (a pod without spec.nodeName matches spec.nodeName=).
    return '';
  }
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}
