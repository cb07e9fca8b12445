import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let gc: GcFunction | undefined;

/**
 * Gives the pages V8 freed back to the system. After a full GC V8 keeps the
 * emptied old-space pages mapped and resident in a pool for reuse, and
 * nothing short of a "last resort" collection releases them: loading 10k
 * services and 50k pods peaks far above what stays live, so RSS stayed at
 * that peak (heap in use ~60 MB, RSS ~250 MB; this brings it to ~130 MB).
 * Called once the store has synced and after a reload, when the load's
 * garbage is gone; it stops the process for one full collection
 * (~100-200 ms at that size), so it is not run per change.
 *
 * `gc` is V8's own extension, installed in contexts made while
 * --expose-gc is set; the flag is switched back off at once so the
 * global `gc` of later contexts stays hidden.
 */
export function releaseFreedHeap(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    try {
      gc = runInNewContext('gc') as GcFunction;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
