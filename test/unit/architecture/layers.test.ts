// The floors of src/ (docs/design/layout.md): base/ at the bottom imports
// no other room, agent/ at the top is imported by none, and no module reaches
// itself through its imports (static, type-only or dynamic). A failing row
// names the importing file and what it imports.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

/** Every .ts file under src/, as paths relative to src/. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [relative(SRC, path)] : [];
  });
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm;

/** The src/ modules a file imports, by relative specifier (JSON and other files left out). */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) if (m[2].endsWith('.ts')) out.push(relative(SRC, resolve(SRC, dirname(file), m[2])));
  return out;
}

const room = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '');

const graph = new Map<string, string[]>();
for (const file of sourceFiles()) graph.set(file, importsOf(file, readFileSync(join(SRC, file), 'utf8')));

t.test('the parser sees static, type-only and dynamic imports', async (t) => {
  const text = "import a from './a.ts';\nimport type { B } from '../x/b.ts';\nconst c = await import('./c.ts');\nexport { d } from './d.ts';\nimport './e.ts';";
  t.same(importsOf('proxier/f.ts', text), ['proxier/a.ts', 'x/b.ts', 'proxier/c.ts', 'proxier/d.ts', 'proxier/e.ts']);
});

t.test('every file lives in a room; none sits loose in src/', async (t) => {
  t.same([...graph.keys()].filter((f) => room(f) === ''), []);
});

t.test('base/ imports no other room', async (t) => {
  const upward = [...graph].flatMap(([file, deps]) => (room(file) === 'base' ? deps.filter((d) => room(d) !== 'base').map((d) => `${file} -> ${d}`) : []));
  t.same(upward, []);
});

t.test('nothing outside agent/ imports agent/', async (t) => {
  const upward = [...graph].flatMap(([file, deps]) => (room(file) !== 'agent' ? deps.filter((d) => room(d) === 'agent').map((d) => `${file} -> ${d}`) : []));
  t.same(upward, []);
});

t.test('every import names a file that exists', async (t) => {
  const missing = [...graph].flatMap(([file, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${file} -> ${d}`));
  t.same(missing, []);
});

/** One cycle per strongly connected component with more than one module (Tarjan), or a module importing itself. */
function cycles(g: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || g.get(v)?.includes(v)) found.push(scc.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}

t.test('the cycle finder finds a cycle through three modules', async (t) => {
  const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
  t.same(cycles(g), [['a', 'b', 'c']]);
});

t.test('no import cycles in src/', async (t) => {
  t.same(cycles(graph), []);
});
