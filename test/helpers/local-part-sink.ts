import { createWriteStream, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { PartSink } from '../../lib/core/csv/csv-writer';

/** Part files written straight into a local folder (created on first use). */
export function localPartSink(dir: string): (fileName: string) => PartSink {
  let made = false;
  return (fileName) => {
    // Part names are plain file names; anything path-like would escape the folder.
    if (basename(fileName) !== fileName || fileName === '.' || fileName === '..') {
      throw new Error(`not a plain file name: ${JSON.stringify(fileName)}`);
    }
    if (!made) {
      mkdirSync(dir, { recursive: true });
      made = true;
    }
    const stream = createWriteStream(join(dir, fileName));
    // `finished` waits for 'close' too, so the file is complete and its descriptor released.
    return { stream, finished: finished(stream) };
  };
}
