import { pathToFileURL } from 'node:url';
import type { DownloadLink, LinkSigner } from '../../ports/link-signer';
import type { LocalStore } from './local-store';

/** Links to a local store are plain file URLs: nothing signs them, so nothing makes them expire. */
export class LocalLinkSigner implements LinkSigner {
  constructor(private readonly store: LocalStore) {}

  async sign(key: string, _expiresInSeconds: number): Promise<DownloadLink> {
    // expiresAt is null rather than a made-up time: a file URL stays valid while the file exists.
    return { url: pathToFileURL(this.store.localPath(key)).href, expiresAt: null };
  }
}
