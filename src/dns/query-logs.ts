import type { Logger } from '../base/log.ts';
import type { Observation } from './answer/handler.ts';
import type { DnsConfig } from './corefile/config.ts';
import { Rcode, rcodeName, typeName } from './wire/constants.ts';

// CoreDNS's `log` and `errors`, riding on the same observation hook as the
// metrics (the handler builds the log line, also in worker threads).

type Observe = (o: Observation) => void;

const under = (name: string, zone: string) => zone === '.' || name === zone || name.endsWith(`.${zone}`);

/** `log`'s response classes (plugin/log README): denial is NXDOMAIN and NODATA, error is any failure rcode. */
function responseClass(o: Observation): 'success' | 'denial' | 'error' {
  if (o.rcode === Rcode.NXDOMAIN) return 'denial';
  if (o.rcode !== Rcode.NOERROR) return 'error';
  return o.ancount === 0 ? 'denial' : 'success';
}

/** One line per query in CoreDNS's common (or combined) format, for the names and classes `log` lists. */
export function withQueryLog(observe: Observe | undefined, log: Logger | undefined, config: DnsConfig): Observe | undefined {
  if (!log) return observe;
  const filter = config.logFilter;
  return (o) => {
    observe?.(o);
    if (!o.logLine) return;
    if (filter && !filter.names.some((z) => under(o.name, z))) return;
    if (filter && !filter.classes.includes(responseClass(o))) return;
    const line = filter?.combined ? `${o.logLine} "QUERY"` : o.logLine;
    log.info(
      { plugin: 'log', name: o.name, type: typeName(o.qtype), rcode: rcodeName(o.rcode), proto: o.proto, durationMs: Number(o.durationMs.toFixed(3)), cached: o.fromCache },
      line,
    );
  };
}

/**
 * `errors`: a query answered SERVFAIL is logged as CoreDNS logs a plugin
 * error (rcode, name, type). With `consolidate DURATION REGEXP [LEVEL]`, lines
 * matching REGEXP are counted instead and one line per DURATION says how
 * many there were. Returns the hook and a stop for the consolidation timers.
 */
export function withErrorLog(observe: Observe | undefined, log: Logger | undefined, config: DnsConfig): { observe: Observe | undefined; stop: () => void } {
  if (!log || !config.errors) return { observe, stop: () => {} };
  const groups = (config.errorsConsolidate ?? []).map((c) => ({ ...c, regex: new RegExp(c.pattern), count: 0 }));
  const timers = groups.map((g) => {
    const timer = setInterval(() => {
      if (g.count === 0) return;
      log[g.level]({ plugin: 'errors' }, `${g.count} errors like '${g.pattern}' occurred in last ${g.periodMs / 1000}s`);
      g.count = 0;
    }, g.periodMs);
    timer.unref();
    return timer;
  });
  return {
    observe: (o) => {
      observe?.(o);
      if (o.rcode !== Rcode.SERVFAIL) return;
      const line = `${Rcode.SERVFAIL} ${o.name} ${typeName(o.qtype)}: ${o.forwarded ? 'no upstream answered' : 'the query could not be answered'}`;
      const group = groups.find((g) => g.regex.test(line));
      if (group) group.count++;
      else log.error({ plugin: 'errors' }, line);
    },
    stop: () => timers.forEach((t) => clearInterval(t)),
  };
}
