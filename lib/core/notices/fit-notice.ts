import type { DropEvent } from '../ports/notifier';

/** A notice body: the event, or the event without its file list when that list made it too big. */
export type NoticeBody = DropEvent & {
  /** Set when `files` was left out to fit a size limit: how many files the manifest lists. */
  readonly filesOmitted?: number;
};

/**
 * Builds a notice from the whole event and, when it exceeds `limitBytes` (SNS and EventBridge
 * take at most 256 KB), again from the event without its per-file links: the manifest link still
 * leads to every file. Returns whichever was built last and whether it fits.
 */
export function fitNotice<T>(
  event: DropEvent,
  build: (body: NoticeBody) => T,
  sizeBytes: (built: T) => number,
  limitBytes: number,
): { built: T; body: NoticeBody; fits: boolean; trimmed: boolean } {
  const whole = build(event);
  if (sizeBytes(whole) <= limitBytes) return { built: whole, body: event, fits: true, trimmed: false };
  if (!('files' in event) || !event.files || event.files.length === 0) return { built: whole, body: event, fits: false, trimmed: false };
  const { files, ...rest } = event;
  const body: NoticeBody = { ...rest, filesOmitted: files.length };
  const built = build(body);
  return { built, body, fits: sizeBytes(built) <= limitBytes, trimmed: true };
}
