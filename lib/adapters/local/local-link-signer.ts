import { pathToFileURL } from 'node:url';
import type { DownloadLink, LinkSigner } from '../../core/ports/link-signer';
import type { LocalStore } from './local-store';

/**
 * Links to a local store are plain file URLs, or, with a base URL (where the folder is served, e.g.
 * `https://files.example.com/drops/`), that URL plus the key: what a partner of a local deployment
 * can reach. Nothing signs them, so nothing makes them expire.
 */
export class LocalLinkSigner implements LinkSigner {
  constructor(
    private readonly store: LocalStore,
    private readonly baseUrl?: string,
  ) {}

  async sign(key: string, _expiresInSeconds: number): Promise<DownloadLink> {
    // expiresAt is null rather than a made-up time: such a link stays valid while the file exists.
    if (this.baseUrl) {
      const base = this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`;
      // Each segment encoded; `=` kept, so hive folders (slot=…) read as they are stored.
      return {
        url: new URL(
          key
            .split('/')
            .map((s) => encodeURIComponent(s).replace(/%3D/g, '='))
            .join('/'),
          base,
        ).href,
        expiresAt: null,
      };
    }
    return { url: pathToFileURL(this.store.localPath(key)).href, expiresAt: null };
  }
}
