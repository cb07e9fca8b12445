// The rooms of src/dns/ (wire, zone, answer, transport, corefile, forward,
// cache, hosts, metrics, workers) import each other in one direction only,
// so each can be read knowing only the rooms below it. The files at the top
// of dns/ put them together (the component, the server, the forward chain)
// and are left out, as is workers/: a worker thread runs the same server.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DNS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/dns');
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+\.ts)\1/gm;
const ASSEMBLY = new Set(['', 'workers']);

/** room → the rooms its files import (inside dns/, the assembly left out). */
function roomGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const room of readdirSync(DNS, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)) {
    if (ASSEMBLY.has(room)) continue;
    const deps = new Set<string>();
    for (const file of readdirSync(join(DNS, room)).filter((f) => f.endsWith('.ts'))) {
      for (const m of readFileSync(join(DNS, room, file), 'utf8').matchAll(SPECIFIER)) {
        const target = relative(DNS, resolve(DNS, room, m[2]));
        if (target.startsWith('..')) continue;
        const to = target.includes('/') ? target.slice(0, target.indexOf('/')) : '';
        if (to !== room) deps.add(to);
      }
    }
    graph.set(room, deps);
  }
  return graph;
}

t.test('no room imports the files that assemble it', async (t) => {
  const up = [...roomGraph()].flatMap(([room, deps]) => [...deps].filter((d) => ASSEMBLY.has(d)).map((d) => `${room} -> ${d || 'dns/'}`));
  t.same(up, []);
});

t.test('the rooms import each other in one direction', async (t) => {
  const graph = roomGraph();
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
    [...(graph.get(from) ?? [])].some((d) => d === to || (!seen.has(d) && (seen.add(d), reaches(d, to, seen))));
  const cyclic = [...graph.keys()].filter((room) => reaches(room, room));
  t.same(cyclic, []);
});

t.test('wire/ (the message format) imports no other room', async (t) => {
  t.same([...(roomGraph().get('wire') ?? [])], []);
});
