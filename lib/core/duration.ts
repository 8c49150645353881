/**
 * ISO-8601 durations as feeds write them (`PT2H`, `P1D`, `PT30M`, `P1DT6H`). Only fixed-length
 * units (weeks, days, hours, minutes, seconds) are accepted: a month has no fixed length, so an SLA
 * in months would be ambiguous.
 */
const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

export function parseDurationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const [, w, d, h, min, s] = m;
  return Number(w ?? 0) * 7 * 86400 + Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

export function isDuration(text: string): boolean {
  return parseDurationSeconds(text) !== undefined;
}

/**
 * The longest duration a feed may give an SLA point or a freshness lag: a year and a day. Longer is
 * a typo, and far longer (P99999999D) would put the moment past the last date JavaScript can hold.
 */
export const MAX_DURATION_DAYS = 366;
export const MAX_DURATION_SECONDS = MAX_DURATION_DAYS * 86400;
