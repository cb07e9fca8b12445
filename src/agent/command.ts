import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { NetletError } from '../base/errors.ts';

/** A subcommand: parses its own arguments, returns the process exit code. */
export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

/**
 * Every subcommand's flag parsing: strict, and a bad flag is a usage error
 * that carries the command's help text (printed by main without a stack).
 */
export function parseCommandLine<const O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, help: string) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new NetletError('ERR_USAGE', `${(err as Error).message}\n${help}`);
  }
}
