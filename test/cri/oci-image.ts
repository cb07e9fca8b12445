// Writes an OCI image archive by hand (image-spec: oci-layout, index.json,
// blobs/sha256/…) from a directory tree, so the tests need no registry:
// `ctr images import` takes it as it is.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Builds `<workDir>/image.tar` holding one image named `name` whose single
 * layer is the content of `rootfs`, running `entrypoint`. Returns the path.
 */
export function writeOciArchive(workDir: string, rootfs: string, name: string, entrypoint: string[]): string {
  const layout = join(workDir, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const blob = (data: Buffer): { digest: string; size: number } => {
    const hex = sha256(data);
    writeFileSync(join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const layerTar = join(workDir, 'layer.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', layerTar, '.']);
  const layerData = readFileSync(layerTar);
  const layer = blob(layerData);
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
        os: 'linux',
        config: { Entrypoint: entrypoint, WorkingDir: '/' },
        rootfs: { type: 'layers', diff_ids: [layer.digest] }, // uncompressed layer: diff_id = digest
      }),
    ),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
        },
      ],
    }),
  );
  const archive = join(workDir, 'image.tar');
  execFileSync('tar', ['-C', layout, '-cf', archive, '.']);
  return archive;
}
