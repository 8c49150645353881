import type { DestinationSpec, FeedFile } from '../feed/feed-schema';
import type { Manifest, ManifestDelivery, ManifestDestination } from '../manifest';
import { assertValidManifest } from '../manifest-schema';
import type { DeliveryFile } from '../ports/destination';

/**
 * Where a destination sends, for people and for the manifest: no secrets (they live in the
 * environment), no credentials or query string of an API URL. The adapters describe themselves the
 * same way (record-manifest.test.ts holds them to it); a local folder is named as the feed file says.
 */
export function destinationTarget(spec: DestinationSpec): string {
  switch (spec.type) {
    case 'local':
      return `folder ${spec.path}`;
    case 's3': {
      const prefix = spec.prefix.replace(/^\/+|\/+$/g, '');
      return `s3://${spec.bucket}/${prefix ? `${prefix}/` : ''}${spec.roleArn ? ` as ${spec.roleArn}` : ''}`;
    }
    case 'sftp':
      return `sftp ${spec.username}@${spec.host}:${spec.port}${spec.path.startsWith('/') ? '' : '/'}${spec.path}`;
    case 'api': {
      const u = new URL(spec.url);
      return `api ${u.origin}${u.pathname}`;
    }
  }
}

/**
 * The manifest's `delivery` section, written at the commit point: every destination the drop goes
 * to (the feed's, then the partner's own), so a reader of the manifest knows where it is pushed
 * before any push ran. Undefined when there are none (the section is left out).
 */
export function deliverySection(feed: Pick<FeedFile, 'destinations' | 'partners'>, partner: string | null): ManifestDelivery | undefined {
  const own = partner ? (feed.partners.find((p) => p.id === partner)?.destinations ?? []) : [];
  const entry = (spec: DestinationSpec, owner: string | null): ManifestDestination => ({
    name: spec.name,
    kind: spec.type,
    target: destinationTarget(spec),
    mode: spec.sync,
    partner: owner,
  });
  const destinations = [...feed.destinations.map((d) => entry(d, null)), ...own.map((d) => entry(d, partner))];
  return destinations.length ? { destinations } : undefined;
}

/** Spreads into a manifest: the section only when there is one. */
export const withDelivery = (delivery: ManifestDelivery | undefined): { delivery?: ManifestDelivery } => (delivery ? { delivery } : {});

/**
 * The manifest a file destination writes last: ours, with `delivery.delivered` saying what this
 * destination received (for a diff sync, the change files instead of the drop's). Deterministic,
 * so every attempt writes the same bytes.
 */
export function manifestAtDestination(
  manifest: Manifest,
  sent: {
    destination: string;
    mode: ManifestDestination['mode'];
    base: string | null;
    files: readonly DeliveryFile[];
    changes?: { path: string; body: string };
  },
): string {
  const files = sent.files.map((f) => ({ path: f.path, ...(sent.mode === 'full' ? {} : { op: f.op }), rows: f.rows, bytes: f.bytes }));
  if (sent.changes) files.push({ path: sent.changes.path, rows: 0, bytes: Buffer.byteLength(sent.changes.body, 'utf8') });
  const copy: Manifest = {
    ...manifest,
    delivery: { destinations: manifest.delivery?.destinations ?? [], delivered: { destination: sent.destination, mode: sent.mode, base: sent.base, files } },
  };
  assertValidManifest(copy);
  return JSON.stringify(copy, null, 2) + '\n';
}
