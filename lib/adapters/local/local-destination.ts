import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileDestination } from '../../core/destinations/file-delivery';
import type { Destination, FileSink } from '../../core/ports/destination';

/** A folder on this machine as a destination: for development, and the reference the other file destinations are held to. */
export class LocalFolderSink implements FileSink {
  readonly target: string;
  private readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
    this.target = `folder ${this.root}`;
  }
  private pathOf(path: string): string {
    return join(this.root, ...path.split('/'));
  }
  async put(path: string, body: () => Promise<Readable>, bytes: number): Promise<void> {
    const final = this.pathOf(path);
    // A dot-name beside the final one, renamed into place: watchers never see half a file.
    const temp = join(dirname(final), `.${final.slice(dirname(final).length + 1)}.part`);
    await mkdir(dirname(final), { recursive: true });
    try {
      await pipeline(await body(), createWriteStream(temp));
      const written = (await stat(temp)).size;
      if (written !== bytes) throw new Error(`${path}: wrote ${written} bytes, expected ${bytes}`);
      await rename(temp, final);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
  async size(path: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(path))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
  async close(): Promise<void> {}
}

export function localFolderDestination(name: string, root: string): Destination {
  return fileDestination(name, new LocalFolderSink(root));
}
