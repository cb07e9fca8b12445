import { pino } from 'pino';
import type { Logger, LevelWithSilent } from 'pino';

export type { Logger };

/**
 * JSON logs on stderr (stdout belongs to commands such as netlet-cni, whose
 * stdout is the CNI result). Level from the caller, else NETLET_LOG_LEVEL, else info.
 */
export function createLogger(options: { level?: LevelWithSilent; name?: string } = {}): Logger {
  const level = options.level ?? (process.env.NETLET_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  return pino({ level, name: options.name ?? 'netlet', base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything: for unit tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
