import { Gauge } from 'prom-client';
import { ManifestSource } from '../k8s/manifests.ts';
import { SnapshotWriter } from '../k8s/snapshot.ts';
import type { Kind } from '../k8s/objects.ts';
import type { LeanKind } from '../k8s/convert/index.ts';
import type { AgentContext } from './component.ts';
import type { AgentSources } from './agent-sources.ts';
import { LABEL_SELECTED_KINDS } from './api-sources.ts';
import { parseLabelSelector } from '../k8s/label-selector.ts';

/**
 * The manifest branch of the agent's sources (--manifests DIR): the folder
 * stands in for an API server and is followed live. With --snapshot, the
 * state it yields is saved too, like the API branch does.
 */
/** `labelSelector`: only Services, EndpointSlices and Pods it selects are kept, as the API server would list them. */
export function createManifestSources(ctx: AgentContext, kinds?: readonly Kind[], lean?: readonly LeanKind[], labelSelector?: string): AgentSources {
  const dir = ctx.config.manifests;
  const log = ctx.log.child({ source: 'manifests' });
  const selector = labelSelector ? parseLabelSelector(labelSelector) : undefined;
  const selectors = selector ? Object.fromEntries(LABEL_SELECTED_KINDS.map((k) => [k, selector])) : undefined;
  const source = new ManifestSource({ dir, store: ctx.store, log, kinds, lean, selectors });
  const writer = ctx.config.snapshot ? new SnapshotWriter({ file: ctx.config.snapshot, store: ctx.store, log }) : undefined;
  let started = false;

  const registers = [ctx.metrics];
  new Gauge({
    name: 'netlet_manifest_scans',
    help: 'Scans of the manifest folder completed since start (each file event and each periodic rescan).',
    registers,
    collect() {
      this.set(source.scans);
    },
  });
  new Gauge({
    name: 'netlet_manifest_invalid_documents',
    help: 'Manifest documents skipped as invalid since start.',
    registers,
    collect() {
      this.set(source.invalidDocuments);
    },
  });
  new Gauge({
    name: 'netlet_manifest_broken_files',
    help: 'Manifest files that cannot be read or parsed; the objects they defined before are still served.',
    registers,
    collect() {
      this.set(source.brokenFiles);
    },
  });

  return {
    async start() {
      log.info({ dir }, 'serving from a manifest folder');
      await source.start();
      await writer?.start();
      started = true;
    },
    async stop() {
      await source.stop();
      await writer?.stop();
    },
    healthy: () => started,
    details: () => (source.lastError ? { manifestsError: source.lastError } : {}),
  };
}
