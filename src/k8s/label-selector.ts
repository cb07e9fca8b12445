// Kubernetes label selectors in their string form, as `kubectl -l` and
// CoreDNS's `labels`/`namespace_labels` take them: comma-separated
// requirements, each `key`, `!key`, `key=value`, `key==value`,
// `key!=value`, `key in (v1,v2)` or `key notin (v1,v2)`. Every requirement
// must hold; `!=` and `notin` hold for an object without the key, as the
// API server's selection does.

export type LabelRequirement =
  | { key: string; op: 'exists' | 'absent' }
  | { key: string; op: 'in' | 'notin'; values: string[] };

export type LabelSelector = LabelRequirement[];

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Splits on commas outside parentheses. */
function requirements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((r) => r.trim());
}

function checkKey(key: string, whole: string): string {
  if (!KEY.test(key)) throw new Error(`label selector '${whole}': '${key}' is not a label key`);
  return key;
}

function checkValue(value: string, whole: string): string {
  if (!VALUE.test(value)) throw new Error(`label selector '${whole}': '${value}' is not a label value`);
  return value;
}

/** Parses a selector; throws an Error naming the bad part. An empty string selects everything. */
export function parseLabelSelector(text: string): LabelSelector {
  const whole = text.trim();
  if (whole === '') return [];
  const out: LabelSelector = [];
  for (const r of requirements(whole)) {
    if (r === '') throw new Error(`label selector '${whole}': an empty requirement`);
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(r);
    if (set) {
      const values = set[3].split(',').map((v) => checkValue(v.trim(), whole));
      out.push({ key: checkKey(set[1], whole), op: set[2] as 'in' | 'notin', values });
      continue;
    }
    const eq = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(r);
    if (eq) {
      out.push({ key: checkKey(eq[1], whole), op: eq[2] === '!=' ? 'notin' : 'in', values: [checkValue(eq[3], whole)] });
      continue;
    }
    if (r.startsWith('!')) {
      out.push({ key: checkKey(r.slice(1).trim(), whole), op: 'absent' });
      continue;
    }
    out.push({ key: checkKey(r, whole), op: 'exists' });
  }
  return out;
}

/** Whether `labels` satisfy every requirement. */
export function selects(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  return selector.every((req) => {
    const has = Object.hasOwn(labels, req.key);
    switch (req.op) {
      case 'exists':
        return has;
      case 'absent':
        return !has;
      case 'in':
        return has && req.values.includes(labels[req.key]);
      case 'notin':
        return !has || !req.values.includes(labels[req.key]);
    }
  });
}
