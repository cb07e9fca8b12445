import type { Logger } from 'pino';
import type { SnapshotAccess } from './api-source.ts';
import type { Kind } from './objects.ts';
import { SnapshotWriter, readSnapshot } from './snapshot.ts';
import type { ObjectStore } from './store.ts';

/**
 * The API source's view of the snapshot file (snapshot.ts): a missing file
 * is "no snapshot yet"; a damaged one is an error the source logs.
 */
export function snapshotAccess(file: string, store: ObjectStore, log: Logger, kinds: readonly Kind[], debounceMs?: number): SnapshotAccess {
  return {
    path: file,
    async load() {
      try {
        const snap = await readSnapshot(file);
        for (const err of snap.rejected) {
          log.warn({ snapshot: file, kind: err.kind, object: err.ref, field: err.field }, `invalid snapshot object skipped: ${err.message}`);
        }
        return { time: snap.savedAt, objects: snap.objects };
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_SNAPSHOT_MISSING') return undefined;
        throw err;
      }
    },
    startWriting() {
      const writer = new SnapshotWriter({ file, store, log, debounceMs, requireSynced: kinds });
      const started = writer.start().catch((err: unknown) => log.error({ err, file }, 'cannot start the snapshot writer'));
      return {
        async stop() {
          await started;
          await writer.stop();
        },
      };
    },
  };
}
