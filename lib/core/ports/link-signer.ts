/** Mints download links for stored objects: presigned GET on S3, file URLs locally. */
export interface DownloadLink {
  readonly url: string;
  /** UTC ISO-8601; null where the link does not expire (local file URLs). */
  readonly expiresAt: string | null;
}

export interface LinkSigner {
  sign(key: string, expiresInSeconds: number): Promise<DownloadLink>;
}
