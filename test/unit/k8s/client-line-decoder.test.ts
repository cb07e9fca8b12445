import t from 'tap';
import { splitLines } from '../../../src/k8s/line-decoder.ts';

async function collect(chunks: (string | Buffer)[]): Promise<string[]> {
  async function* gen() {
    for (const c of chunks) yield c;
  }
  const out: string[] = [];
  for await (const line of splitLines(gen())) out.push(line);
  return out;
}

const cases: { name: string; chunks: (string | Buffer)[]; lines: string[] }[] = [
  { name: 'one line per chunk', chunks: ['{"a":1}\n', '{"b":2}\n'], lines: ['{"a":1}', '{"b":2}'] },
  { name: 'several lines in one chunk', chunks: ['a\nb\nc\n'], lines: ['a', 'b', 'c'] },
  { name: 'line split over three chunks', chunks: ['{"ty', 'pe":"ADD', 'ED"}\nx\n'], lines: ['{"type":"ADDED"}', 'x'] },
  { name: 'unterminated last line is kept', chunks: ['a\nb'], lines: ['a', 'b'] },
  { name: 'CRLF and empty lines are dropped', chunks: ['a\r\n\r\n\nb\r\n'], lines: ['a', 'b'] },
  { name: 'chunk ending exactly at the newline', chunks: ['a', '\n', 'b\n'], lines: ['a', 'b'] },
  {
    // "é" is two bytes in UTF-8: split between chunks it must not become U+FFFD.
    name: 'multi-byte character split between chunks',
    chunks: [Buffer.from([0x22, 0xc3]), Buffer.from([0xa9, 0x22, 0x0a])],
    lines: ['"é"'],
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.same(await collect(c.chunks), c.lines);
  });
}

t.test('lines are yielded before the stream ends (no whole-body buffering)', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let ended = false;
  async function* gen() {
    yield 'first\nsec';
    await gate;
    yield 'ond\n';
    ended = true;
  }
  const it = splitLines(gen());
  const first = await it.next();
  t.equal(first.value, 'first');
  t.equal(ended, false, 'the first line arrived while the stream was still open');
  release();
  t.equal((await it.next()).value, 'second');
  t.equal((await it.next()).done, true);
});
