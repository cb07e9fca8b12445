import { pino } from 'pino';
import type { Logger } from 'pino';

/** The logger of library callers that pass none (k8s/ does not depend on agent/). */
export const silentLogger: Logger = pino({ level: 'silent' });
