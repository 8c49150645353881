import { Readable } from 'node:stream';
import type { DeliveryInput, DeliveryProgress, Destination, FileSink } from '../ports/destination';
import { relativeDropPrefix, MANIFEST_FILE } from '../layout';

/** Where a drop goes at a file destination: the same layout as ours, below the destination's folder or prefix. */
export function remoteDropDir(input: Pick<DeliveryInput, 'feed' | 'partner' | 'runId' | 'manifest'>): string {
  return relativeDropPrefix(input.feed, input.partner, input.manifest.slot.id, input.runId);
}

const MANIFEST_UNIT = MANIFEST_FILE;

/**
 * Sends a drop to a place that holds files, the way every file destination must: each data file
 * whole (the sink's put leaves nothing partial visible), then the change description, then the
 * manifest last, so a reader who trusts manifests only ever sees whole drops. A file the record
 * lists as sent is skipped; one that is already there with its size (sent by an attempt that died
 * before recording it) is recorded, not sent again.
 */
export async function deliverFiles(sink: FileSink, input: DeliveryInput, progress: DeliveryProgress): Promise<void> {
  const dir = remoteDropDir(input);
  const send = async (unit: string, path: string, bytes: number, body: () => Promise<Readable>) => {
    if (progress.done.has(unit)) return;
    if ((await sink.size(dir + path)) !== bytes) await sink.put(dir + path, body, bytes);
    await progress.markDone(unit, { bytes });
  };
  for (const file of input.files) await send(file.path, file.path, file.bytes, () => input.store.read(file.key));
  if (input.changes) {
    const body = Buffer.from(input.changes.body, 'utf8');
    await send(input.changes.path, input.changes.path, body.length, async () => Readable.from([body]));
  }
  const manifest = input.manifestBody !== undefined ? Buffer.from(input.manifestBody, 'utf8') : (await input.store.get(input.manifestKey))?.body;
  if (!manifest) throw new Error(`${input.manifestKey} is gone from the store`);
  await send(MANIFEST_UNIT, MANIFEST_FILE, manifest.length, async () => Readable.from([manifest]));
}

/** A file destination from a sink: every file destination is this, with its own sink. */
export function fileDestination(name: string, sink: FileSink): Destination {
  return {
    name,
    target: sink.target,
    deliver: (input, progress) => deliverFiles(sink, input, progress),
    close: () => sink.close(),
  };
}
