import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { MessageAttributeValue, PublishCommandInput, SNSClientConfig } from '@aws-sdk/client-sns';
import { eventText, NoticeText } from '../../core/notices/event-text';
import { fitNotice } from '../../core/notices/fit-notice';
import type { NoticeBody } from '../../core/notices/fit-notice';
import type { DropEvent, Notifier, NotifyOutcome } from '../../core/ports/notifier';
import { AWS_RETRY } from '../aws-retry';

/** SNS's limit on a published message, attributes included: 256 KB. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;
/** SNS's limit on an email Subject. */
const MAX_SUBJECT_CHARS = 100;

/** What email subscribers read. */
export type { NoticeText };

export interface SnsNotifierOptions {
  readonly topicArn: string;
  readonly client?: SNSClient;
  readonly clientConfig?: SNSClientConfig;
  /** Email subject and text for an event; the core notice table when absent. */
  readonly format?: (event: NoticeBody) => NoticeText;
  /** Size limit for one message; SNS's 256 KB unless set (tests set it small). */
  readonly maxMessageBytes?: number;
}

/** What email subscribers read: the subject and text of the notice's type, from the one table in core. */
export const plainNoticeText: (event: NoticeBody) => NoticeText = eventText;

/**
 * Makes a string a valid SNS Subject: ASCII only (accents dropped, other characters become "?"),
 * no line breaks or control characters, at most 100 characters, never empty.
 */
export function snsSubject(subject: string): string {
  const ascii = subject
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what SNS refuses in a subject
    .replace(/[\r\n\t\u0000-\u001f\u007f]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/ {2,}/g, ' ')
    .trim();
  if (ascii === '') return 'dropkit notice';
  return ascii.length <= MAX_SUBJECT_CHARS ? ascii : `${ascii.slice(0, MAX_SUBJECT_CHARS - 3).trimEnd()}...`;
}

function stringAttribute(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

/** Bytes SNS counts toward its limit: the message, the subject and every attribute. */
function publishBytes(input: PublishCommandInput): number {
  let n = Buffer.byteLength(input.Message ?? '') + Buffer.byteLength(input.Subject ?? '');
  for (const [name, v] of Object.entries(input.MessageAttributes ?? {})) {
    n += Buffer.byteLength(name) + Buffer.byteLength(v.DataType ?? '') + Buffer.byteLength(v.StringValue ?? '');
  }
  return n;
}

/**
 * Publishes each event to an SNS topic. Email subscribers get a readable text with a short
 * subject; every other protocol (SQS, Lambda, HTTPS, email-json) gets the event JSON, through
 * `MessageStructure: 'json'`. The attributes `feed`, `partner` and `event` let subscriptions
 * filter. A message over 256 KB is sent again without the per-file links (the manifest link
 * stays). On a FIFO topic the event id is the deduplication id, so a retried notify step does not
 * notify twice; on a standard topic consumers deduplicate on the `id` in the body.
 */
export class SnsNotifier implements Notifier {
  readonly target: string;
  readonly client: SNSClient;
  private readonly topicArn: string;
  private readonly format: (event: NoticeBody) => NoticeText;
  private readonly maxMessageBytes: number;

  constructor(options: SnsNotifierOptions) {
    this.topicArn = options.topicArn;
    this.target = `sns ${options.topicArn}`;
    this.client = options.client ?? new SNSClient({ ...AWS_RETRY, ...options.clientConfig });
    this.format = options.format ?? plainNoticeText;
    this.maxMessageBytes = options.maxMessageBytes ?? SNS_MAX_MESSAGE_BYTES;
  }

  async notify(event: DropEvent): Promise<NotifyOutcome> {
    try {
      const fitted = fitNotice(event, (body) => this.publishInput(body), publishBytes, this.maxMessageBytes);
      if (!fitted.fits) {
        return {
          target: this.target,
          status: 'failed',
          attempts: 0,
          detail: `notice is ${publishBytes(fitted.built)} bytes, over the ${this.maxMessageBytes}-byte SNS limit even without the file list`,
        };
      }
      const out = await this.client.send(new PublishCommand(fitted.built));
      const trimmed = fitted.trimmed ? `; the ${fitted.body.filesOmitted} file links were left out to fit SNS's size limit` : '';
      return { target: this.target, status: 'sent', attempts: out.$metadata?.attempts ?? 1, detail: `message ${out.MessageId}${trimmed}` };
    } catch (e) {
      const attempts = (e as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      return { target: this.target, status: 'failed', attempts, detail };
    }
  }

  private publishInput(body: NoticeBody): PublishCommandInput {
    const { subject, text } = this.format(body);
    const attributes: Record<string, MessageAttributeValue> = { feed: stringAttribute(body.feed), event: stringAttribute(body.type) };
    // SNS refuses empty attribute values; a filter on "partner exists: false" matches feeds without one.
    if (body.partner) attributes.partner = stringAttribute(body.partner);
    const fifo = this.topicArn.endsWith('.fifo');
    return {
      TopicArn: this.topicArn,
      Subject: snsSubject(subject),
      MessageStructure: 'json',
      Message: JSON.stringify({ default: JSON.stringify(body), email: text }),
      MessageAttributes: attributes,
      ...(fifo ? { MessageGroupId: body.partner ? `${body.feed}/${body.partner}` : body.feed, MessageDeduplicationId: body.id.slice(0, 128) } : {}),
    };
  }
}
