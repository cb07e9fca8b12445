// A small declarative schema for the agent config: each key has a type, a
// default and a line of documentation. One table gives validation with errors
// that name the key, the defaults, and the generated config reference in the
// README. (A JSON-schema library would need the same table plus a separate
// defaults pass and produces less readable errors for YAML users.)

import { ConfigError } from './errors.ts';

export type FieldType = 'string' | 'number' | 'boolean' | 'duration' | 'stringList' | 'list';

export interface Field {
  type: FieldType;
  default: unknown;
  doc: string;
  /** Allowed values for strings. */
  oneOf?: readonly string[];
  min?: number;
  max?: number;
  /** For 'list': each item is a mapping validated against this section (errors name `key[i].field`). */
  items?: Section;
}

export interface Section {
  doc: string;
  fields: Record<string, Field | Section>;
  /** Keys that are valid in the original format (e.g. KubeProxyConfiguration) but do not apply: warned about, not rejected. */
  ignored?: readonly string[];
}

export const isSection = (f: Field | Section): f is Section => 'fields' in f;

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses Go-style durations ("30s", "1m0s", "24h0m0s", "500ms") to milliseconds. */
export function parseDuration(key: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value * 1000;
  if (typeof value !== 'string') throw new ConfigError(key, `expected a duration such as "30s", got ${JSON.stringify(value)}`);
  if (value === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== value.length) {
    throw new ConfigError(key, `invalid duration ${JSON.stringify(value)} (use units h, m, s, ms)`);
  }
  return total;
}

function checkField(key: string, field: Field, value: unknown): unknown {
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') throw new ConfigError(key, `expected a string, got ${JSON.stringify(value)}`);
      if (field.oneOf && !field.oneOf.includes(value)) {
        throw new ConfigError(key, `must be one of ${field.oneOf.join(', ')}, got ${JSON.stringify(value)}`);
      }
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(key, `expected a number, got ${JSON.stringify(value)}`);
      if (field.min !== undefined && value < field.min) throw new ConfigError(key, `must be at least ${field.min}`);
      if (field.max !== undefined && value > field.max) throw new ConfigError(key, `must be at most ${field.max}`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw new ConfigError(key, `expected true or false, got ${JSON.stringify(value)}`);
      return value;
    case 'duration':
      return parseDuration(key, value);
    case 'stringList':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        throw new ConfigError(key, `expected a list of strings, got ${JSON.stringify(value)}`);
      }
      return [...value];
    case 'list':
      if (!Array.isArray(value)) throw new ConfigError(key, `expected a list, got ${JSON.stringify(value)}`);
      return value.map((item, i) => validate(field.items!, item ?? {}, () => {}, `${key}[${i}]`));
  }
}

/** Durations are stored in ms; defaults are written in the same form as user input. */
function defaultOf(key: string, field: Field): unknown {
  if (field.type === 'duration') return parseDuration(key, field.default);
  return Array.isArray(field.default) ? [...field.default] : field.default;
}

export function defaults(section: Section, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(section.fields)) {
    const key = prefix ? `${prefix}.${k}` : k;
    out[k] = isSection(f) ? defaults(f, key) : defaultOf(key, f);
  }
  return out;
}

/**
 * Validates `input` against `section`, filling defaults. Unknown keys throw a
 * ConfigError naming the key; keys in `ignored` are reported through `warn`.
 * `null` values mean "default", as in YAML files with an empty key.
 */
export function validate(
  section: Section,
  input: unknown,
  warn: (key: string) => void,
  prefix = '',
): Record<string, unknown> {
  if (input === undefined || input === null) return defaults(section, prefix);
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError(prefix, `expected a mapping, got ${JSON.stringify(input)}`);
  }
  const out = defaults(section, prefix);
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    const f = section.fields[k];
    if (!f) {
      if (section.ignored?.includes(k)) {
        warn(key);
        continue;
      }
      throw new ConfigError(key, 'unknown key');
    }
    if (v === null) continue;
    out[k] = isSection(f) ? validate(f, v, warn, key) : checkField(key, f, v);
  }
  return out;
}
