// Parses iptables-save output into chains of rules, for the subset of matches
// and targets kube-proxy's rules use. Anything else is kept as "unknown" so
// the tracer can say it could not decide instead of guessing.

export type Tri = 'yes' | 'no' | 'maybe';

export type Cond =
  | { kind: 'src' | 'dst'; cidr: string; negated: boolean }
  | { kind: 'proto'; proto: string; negated: boolean }
  | { kind: 'dport'; ports: [number, number][]; negated: boolean }
  | { kind: 'addrtype'; which: 'src' | 'dst'; type: string; negated: boolean }
  | { kind: 'mark'; value: number; mask: number; negated: boolean }
  | { kind: 'ctstate'; states: string[]; negated: boolean }
  | { kind: 'random'; probability: string }
  | { kind: 'recent-check'; name: string; seconds: number }
  | { kind: 'unknown'; text: string };

export type Target =
  | { kind: 'none' }
  | { kind: 'jump' | 'goto'; chain: string }
  | { kind: 'ACCEPT' | 'DROP' | 'REJECT' | 'RETURN' | 'MASQUERADE' }
  | { kind: 'DNAT'; to: string }
  | { kind: 'MARK'; value: number; mask: number; op: 'xset' }
  | { kind: 'other'; name: string };

export interface Rule {
  chain: string;
  conds: Cond[];
  target: Target;
  comment: string;
  /** The line as iptables-save printed it. */
  text: string;
}

export interface Chain {
  name: string;
  /** Policy of a built-in chain ("ACCEPT", "DROP"), '-' for user chains. */
  policy: string;
  rules: Rule[];
}

export type Table = Map<string, Chain>;
export type Tables = Map<string, Table>;

/** Splits a rule line into words, keeping "quoted strings" whole (iptables-save quotes comments). */
export function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  return out;
}

const BUILTIN_TARGETS = new Set(['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'MASQUERADE']);

function parsePorts(spec: string): [number, number][] {
  return spec.split(',').map((p) => {
    const [a, b] = p.split(':');
    return [Number(a), Number(b ?? a)] as [number, number];
  });
}

function parseMark(spec: string): { value: number; mask: number } {
  const [v, m] = spec.split('/');
  return { value: Number(v) >>> 0, mask: m === undefined ? 0xffffffff : Number(m) >>> 0 };
}

export function parseRule(line: string): Rule {
  const w = words(line);
  if (w[0] !== '-A') throw new Error(`not a rule: ${line}`);
  const chain = w[1];
  const conds: Cond[] = [];
  let target: Target = { kind: 'none' };
  let comment = '';
  let negate = false;
  let module = '';
  let targetName = '';
  const targetArgs = new Map<string, string>();
  let recent: { check: boolean; name: string; seconds: number } | undefined;

  for (let i = 2; i < w.length; i++) {
    const opt = w[i];
    if (opt === '!') {
      negate = true;
      continue;
    }
    const val = () => w[++i];
    if (targetName) {
      // Everything after -j belongs to the target.
      targetArgs.set(opt, i + 1 < w.length && !w[i + 1].startsWith('--') ? val() : '');
      continue;
    }
    switch (opt) {
      case '-s': case '--source': conds.push({ kind: 'src', cidr: val(), negated: negate }); break;
      case '-d': case '--destination': conds.push({ kind: 'dst', cidr: val(), negated: negate }); break;
      case '-p': case '--protocol': conds.push({ kind: 'proto', proto: val().toLowerCase(), negated: negate }); break;
      case '-m': case '--match': module = val(); break;
      case '--dport': case '--destination-port': case '--dports': case '--destination-ports':
        conds.push({ kind: 'dport', ports: parsePorts(val()), negated: negate });
        break;
      case '--src-type': conds.push({ kind: 'addrtype', which: 'src', type: val(), negated: negate }); break;
      case '--dst-type': conds.push({ kind: 'addrtype', which: 'dst', type: val(), negated: negate }); break;
      case '--comment': comment = val(); break;
      case '--mark': conds.push({ kind: 'mark', ...parseMark(val()), negated: negate }); break;
      case '--ctstate': case '--state': conds.push({ kind: 'ctstate', states: val().split(','), negated: negate }); break;
      case '--mode': val(); break;
      case '--probability': conds.push({ kind: 'random', probability: val() }); break;
      case '--every': case '--packet': conds.push({ kind: 'random', probability: `${opt} ${val()}` }); break;
      case '--rcheck': case '--update': recent = { ...(recent ?? { name: 'DEFAULT', seconds: 0 }), check: true }; break;
      case '--set': recent = { ...(recent ?? { name: 'DEFAULT', seconds: 0 }), check: false }; break;
      case '--name': recent = { ...(recent ?? { check: false, seconds: 0 }), name: val() }; break;
      case '--seconds': recent = { ...(recent ?? { check: false, name: 'DEFAULT' }), seconds: Number(val()) }; break;
      case '--reap': case '--rsource': case '--rdest': break;
      case '--mask': val(); break;
      case '-j': case '--jump': targetName = val(); break;
      case '-g': case '--goto': target = { kind: 'goto', chain: val() }; break;
      default: {
        // An option we do not model: keep it, with its value if it has one.
        const hasValue = i + 1 < w.length && !w[i + 1].startsWith('-');
        conds.push({ kind: 'unknown', text: `${negate ? '! ' : ''}${module ? `-m ${module} ` : ''}${opt}${hasValue ? ` ${val()}` : ''}` });
      }
    }
    negate = false;
  }
  if (recent?.check) conds.push({ kind: 'recent-check', name: recent.name, seconds: recent.seconds });

  if (targetName) {
    if (BUILTIN_TARGETS.has(targetName)) target = { kind: targetName as 'ACCEPT' };
    else if (targetName === 'DNAT') target = { kind: 'DNAT', to: targetArgs.get('--to-destination') ?? '' };
    else if (targetName === 'MARK') target = markTarget(targetArgs);
    // A user chain or another extension target (LOG, SNAT…): the tracer tells them apart by the table's chains.
    else target = { kind: 'jump', chain: targetName };
  }
  return { chain, conds, target, comment, text: line };
}

/** MARK as (mark & ~mask) ^ value: --set-xmark's definition; the other forms reduce to it (iptables-extensions(8)). */
function markTarget(args: Map<string, string>): Target {
  const pick = (k: string) => (args.has(k) ? parseMark(args.get(k)!) : undefined);
  let m = pick('--set-xmark');
  if (m) return { kind: 'MARK', value: m.value, mask: m.mask, op: 'xset' };
  if ((m = pick('--set-mark'))) return { kind: 'MARK', value: m.value, mask: m.mask === 0xffffffff ? 0xffffffff : m.mask, op: 'xset' };
  if ((m = pick('--or-mark'))) return { kind: 'MARK', value: m.value, mask: m.value, op: 'xset' };
  if ((m = pick('--xor-mark'))) return { kind: 'MARK', value: m.value, mask: 0, op: 'xset' };
  if ((m = pick('--and-mark'))) return { kind: 'MARK', value: 0, mask: ~m.value >>> 0, op: 'xset' };
  return { kind: 'other', name: 'MARK' };
}

/** iptables-save text (one or more tables) → tables of chains. */
export function parseSave(text: string): Tables {
  const tables: Tables = new Map();
  let table: Table | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      table = new Map();
      tables.set(line.slice(1), table);
    } else if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      table?.set(name, { name, policy, rules: [] });
    } else if ((line.startsWith('-A ') || line.startsWith('-I ')) && table) {
      // `-I CHAIN [N] rule` (restore input, not save output) inserts at position N (1-based).
      const ins = /^-I (\S+)(?: (\d+))? (.*)$/.exec(line);
      const rule = parseRule(ins ? `-A ${ins[1]} ${ins[3]}` : line);
      let chain = table.get(rule.chain);
      if (!chain) {
        chain = { name: rule.chain, policy: '-', rules: [] };
        table.set(rule.chain, chain);
      }
      if (ins) chain.rules.splice(Number(ins[2] ?? 1) - 1, 0, rule);
      else chain.rules.push(rule);
    }
  }
  return tables;
}
