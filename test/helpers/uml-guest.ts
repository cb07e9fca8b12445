// The guest half of test/helpers/uml.ts: a script run inside User-Mode
// Linux declares scenarios and runs them one after another; each result is
// appended to results.jsonl in the run directory as soon as it is known, so
// a crash or a timeout still leaves every earlier result for the host.
//
//   import { scenario, runScenarios } from '../../helpers/uml-guest.ts';
//   scenario('spread over endpoints', async (s) => { …; assert.equal(…); s.data.rps = 123; });
//   await runScenarios();
//
// A scenario fails by throwing (node:assert). Scenarios share the guest, so
// each cleans up what it made (or later ones say so when they fail).

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ScenarioContext {
  /** Figures to report to the host (benchmarks), as JSON. */
  data: Record<string, unknown>;
  /** Adds a line to the result's detail (what was seen, for a later reader). */
  note(text: string): void;
}

type ScenarioBody = (s: ScenarioContext) => Promise<void> | void;

const scenarios: { name: string; body: ScenarioBody; timeoutMs: number }[] = [];

export function scenario(name: string, body: ScenarioBody, timeoutMs = 120_000): void {
  scenarios.push({ name, body, timeoutMs });
}

function resultsFile(): string {
  const dir = process.env.NETLET_UML_OUT;
  if (!dir) throw new Error('NETLET_UML_OUT is not set: this script runs inside User-Mode Linux through test/helpers/uml.ts');
  return join(dir, 'results.jsonl');
}

/** Runs every declared scenario in order; returns how many failed. */
export async function runScenarios(): Promise<number> {
  const file = resultsFile();
  let failed = 0;
  for (const { name, body, timeoutMs } of scenarios) {
    const notes: string[] = [];
    const ctx: ScenarioContext = { data: {}, note: (text) => notes.push(text) };
    const started = Date.now();
    let ok = true;
    try {
      await withTimeout(Promise.resolve().then(() => body(ctx)), timeoutMs, name);
    } catch (err) {
      ok = false;
      failed++;
      notes.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
    const result = { name, ok, ms: Date.now() - started, detail: notes.join('\n') || undefined, data: Object.keys(ctx.data).length ? ctx.data : undefined };
    appendFileSync(file, `${JSON.stringify(result)}\n`);
    console.log(`${ok ? 'ok' : 'not ok'} ${name} (${result.ms} ms)`);
  }
  return failed;
}

function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`scenario '${name}' took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
