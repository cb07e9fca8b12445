// Reading the Markdown tables the bench scripts print, so the report can
// check that a part produced one and the chart can take numbers from one.
// GitHub-flavoured tables only (header row, |---| delimiter row, body rows);
// a few lines of splitting, so no Markdown parser dependency.

export interface MarkdownTable {
  header: string[];
  rows: string[][];
}

const isRow = (line: string): boolean => /^\s*\|.*\|\s*$/.test(line);
const isDelimiter = (line: string): boolean => /^\s*\|(\s*:?-+:?\s*\|)+\s*$/.test(line);

/** The cells of one `| a | b |` line, trimmed; `\|` stays a literal bar inside a cell. */
export function splitRow(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

/** Every table in `text`, in order. A header without a delimiter row under it is not a table. */
export function parseTables(text: string): MarkdownTable[] {
  const lines = text.split('\n');
  const tables: MarkdownTable[] = [];
  for (let i = 0; i < lines.length - 1; i++) {
    if (!isRow(lines[i]) || !isDelimiter(lines[i + 1])) continue;
    const table: MarkdownTable = { header: splitRow(lines[i]), rows: [] };
    let j = i + 2;
    for (; j < lines.length && isRow(lines[j]); j++) table.rows.push(splitRow(lines[j]));
    tables.push(table);
    i = j - 1;
  }
  return tables;
}

/** A table as Markdown text again (for tables this runner makes itself). */
export function renderTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

/** The first number in a cell such as `1.23 s [0.98]` or `12,345`; NaN when there is none. */
export function leadingNumber(cell: string): number {
  const m = /-?\d[\d,]*(\.\d+)?/.exec(cell);
  return m ? Number(m[0].replace(/,/g, '')) : Number.NaN;
}
