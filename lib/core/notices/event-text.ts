import type { DropEvent, DropLinks } from '../ports/notifier';
import type { NoticeBody } from './fit-notice';
import { describeSchemaChange } from './schema-change';

/** "2 h 05 min", "45 s": how late, for people. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d ? `${d} d` : '', h || d ? `${h} h` : '', `${String(m).padStart(d || h ? 2 : 1, '0')} min`];
  return parts.filter(Boolean).join(' ');
}

function who(e: NoticeBody): string {
  return `${e.feed}${e.partner ? ` for ${e.partner}` : ''}`;
}

function footer(e: NoticeBody): string[] {
  return [
    '',
    `Feed: ${e.feed}`,
    ...(e.partner ? [`Partner: ${e.partner}`] : []),
    `Slot: ${e.slot}`,
    ...(e.runId ? [`Run: ${e.runId} (revision ${e.revision})`] : []),
    `Event: ${e.type}, id ${e.id}, at ${e.occurredAt}`,
  ];
}

function links(e: DropLinks & Pick<NoticeBody, 'filesOmitted'>): string[] {
  const out: string[] = [];
  if (e.manifest) out.push(`Manifest: ${e.manifest.link.url}`);
  for (const f of e.files ?? []) out.push(`${f.path} (${f.format}, ${f.rows} rows, ${f.bytes} bytes, sha256 ${f.sha256}): ${f.link.url}`);
  if (e.filesOmitted) out.push(`${e.filesOmitted} files: too many to list here; the manifest lists each with its size and SHA-256.`);
  if (e.manifest?.link.expiresAt) out.push(`Links expire at ${e.manifest.link.expiresAt}.`);
  return out;
}

export type NoticeType = DropEvent['type'];
export interface NoticeText {
  readonly subject: string;
  readonly text: string;
}

/**
 * The subject and plain text of every notice type: one table for SNS e-mail, the console and
 * chat. A type without an entry is a compile error, not a blank e-mail; only `drop.delivered`
 * says "delivered" (a person skimming subjects must not take a delay or a failure for a drop).
 */
export const NOTICE_TEXT: { readonly [T in NoticeType]: (e: Extract<NoticeBody, { readonly type: T }>) => NoticeText } = {
  'drop.delivered': (e) => {
    const sla = e.sla ? (e.sla.status === 'MET' ? `on time (due ${e.sla.expectedBy})` : `late (due ${e.sla.expectedBy}, delivered ${e.sla.deliveredAt})`) : '';
    return {
      subject: `[dropkit] ${who(e)}: slot ${e.slot} delivered${e.sla?.status === 'LATE' ? ' late' : ''}`,
      text: [
        `A new drop of ${who(e)} is ready: slot ${e.slot}${e.rowCount !== undefined ? `, ${e.rowCount} rows` : ''}${sla ? `, ${sla}` : ''}.`,
        '',
        ...links(e),
        ...footer(e),
      ].join('\n'),
    };
  },
  'run.failed': (e) => ({
    subject: `[dropkit] ${who(e)}: run for slot ${e.slot} failed at ${e.error.step}`,
    text: [
      `The run of ${who(e)} for slot ${e.slot} failed at step ${e.error.step}: ${e.error.name}: ${e.error.message}.`,
      'Nothing was published; the previous drop and latest.json are unchanged.',
      ...footer(e),
    ].join('\n'),
  }),
  'data.delay': (e) => {
    const d = e.delay;
    const missed = d.phase === 'missed';
    return {
      subject: `[dropkit] ${who(e)}: slot ${e.slot} ${missed ? 'missed its deadline' : 'is at risk of being late'}`,
      text: [
        missed
          ? `The drop of ${who(e)} for slot ${e.slot} was due by ${d.expectedBy} and has not arrived.`
          : `The drop of ${who(e)} for slot ${e.slot} is not ready yet; it is due by ${d.expectedBy}.`,
        ...(d.detail ? [d.detail] : []),
        'You will get another notice when it is ready. Do not load a partial or older drop in its place.',
        ...footer(e),
      ].join('\n'),
    };
  },
  'data.delay.recovered': (e) => {
    const r = e.recovery;
    return {
      subject: `[dropkit] ${who(e)}: delayed slot ${e.slot} has now arrived`,
      text: [
        `The drop of ${who(e)} for slot ${e.slot}, announced as delayed, arrived at ${r.deliveredAt}` +
          (r.status === 'LATE' ? `, ${humanDuration(r.latenessSeconds)} after its deadline ${r.expectedBy}.` : `, within its deadline ${r.expectedBy}.`),
        ...links(e),
        ...footer(e),
      ].join('\n'),
    };
  },
  'data.update': (e) => {
    const u = e.update;
    return {
      subject: `[dropkit] ${who(e)}: slot ${e.slot} was replaced by revision ${e.revision}`,
      text: [
        `Slot ${e.slot} of ${who(e)} has a new revision ${e.revision}; it replaces revision ${u.supersedes.revision} (run ${u.supersedes.runId}).`,
        `Rows: ${u.previousRowCount ?? 'unknown'} before, ${e.rowCount ?? 'unknown'} now. Reload this slot if you loaded the earlier revision.`,
        ...links(e),
        ...footer(e),
      ].join('\n'),
    };
  },
  'schema.change': (e) => {
    const lines = describeSchemaChange(e.schemaChange);
    return {
      subject: `[dropkit] ${who(e)}: columns changed in slot ${e.slot}`,
      text: [
        `The columns of ${who(e)} changed in slot ${e.slot} compared with the previous drop${e.update ? ` (run ${e.update.supersedes.runId})` : ''}:`,
        ...lines.map((l) => `  - ${l}`),
        'Check your loader before reading this drop.',
        ...footer(e),
      ].join('\n'),
    };
  },
  'validation.failed': (e) => {
    const failed = e.validation.failed;
    return {
      subject: `[dropkit] ${who(e)}: validation failed for slot ${e.slot} (${failed.length} check${failed.length === 1 ? '' : 's'})`,
      text: [
        `The checks of ${who(e)} failed for slot ${e.slot}; nothing was published.`,
        ...failed.map((c) => `  - ${c.name} (${c.type}, ${c.severity}): ${c.outcome}: ${c.message}`),
        ...footer(e),
      ].join('\n'),
    };
  },
  'approval.requested': (e) => {
    const a = e.approval;
    const range = (c: NonNullable<NonNullable<typeof a>['profile']>['columns'][number]) =>
      c.min !== undefined && c.min !== null ? `, ${String(c.min)} … ${String(c.max)}` : '';
    return {
      subject: `[dropkit] ${who(e)}: slot ${e.slot} is held for your approval`,
      text: [
        `The drop of ${who(e)} for slot ${e.slot}${e.rowCount !== undefined ? ` (${e.rowCount} rows)` : ''} is rendered and held; nothing is published until an approver decides.`,
        'Why it is held:',
        ...(a?.reasons ?? []).map((r) => `  - ${r}`),
        `Columns: ${(a?.schema ?? []).map((c) => `${c.name} ${c.type}`).join(', ')}`,
        ...(a?.profile
          ? ['Profile:', ...a.profile.columns.map((c) => `  - ${c.name}: ${(c.nullFraction * 100).toFixed(1)}% null, ~${c.distinct} distinct${range(c)}`)]
          : []),
        ...(a?.preview
          ? [
              `First rows${a.preview.redacted.length ? ` (${a.preview.redacted.join(', ')} redacted)` : ''}:`,
              `  ${a.preview.columns.join(' | ')}`,
              ...a.preview.rows.map((r) => `  ${r.map((v) => v ?? '∅').join(' | ')}`),
            ]
          : []),
        `Approvers: ${(a?.approvers ?? []).join(', ')}. Decide by ${a?.deadline}, or the drop is rolled back:`,
        `  dropkit approve ${e.feed} --slot ${e.slot}${e.partner ? ` --partner ${e.partner}` : ''} --by <you> --reason "…"   (or dropkit reject …)`,
        ...footer(e),
      ].join('\n'),
    };
  },
};

/** A readable subject and plain text for a notice (the JSON event stays the machine-readable form). */
export function eventText(event: NoticeBody): NoticeText {
  // The table is keyed by type, so the entry found takes this event's shape; TypeScript cannot correlate the two.
  return (NOTICE_TEXT[event.type] as (e: NoticeBody) => NoticeText)(event);
}
