// The part of Go's text/template that CoreDNS's `template` answers use:
// {{ .Name }}, {{ .Zone }}, {{ .Class }}, {{ .Type }}, {{ .Remote }},
// {{ index .Match N }} and {{ .Group.NAME }}. Anything else between {{ }}
// is refused at start rather than answered wrong.

export type TemplateExpr =
  | { field: 'Name' | 'Zone' | 'Class' | 'Type' | 'Remote' }
  | { field: 'Match'; index: number }
  | { field: 'Group'; name: string };

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/g;

function expr(text: string): TemplateExpr | null {
  const simple = /^\.(Name|Zone|Class|Type|Remote)$/.exec(text);
  if (simple) return { field: simple[1] as 'Name' };
  const index = /^index \.Match (\d+)$/.exec(text);
  if (index) return { field: 'Match', index: Number(index[1]) };
  const group = /^\.Group\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(text);
  if (group) return { field: 'Group', name: group[1] };
  return null;
}

/** The template's pieces: literal text and expressions; throws naming an unsupported action. */
export function parseTemplate(text: string): Array<string | TemplateExpr> {
  const out: Array<string | TemplateExpr> = [];
  let last = 0;
  for (const m of text.matchAll(ACTION)) {
    const e = expr(m[1]);
    if (!e) throw new Error(`template action '{{ ${m[1]} }}' is not supported (.Name, .Zone, .Class, .Type, .Remote, index .Match N, .Group.NAME are)`);
    out.push(text.slice(last, m.index), e);
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out.filter((p) => p !== '');
}
