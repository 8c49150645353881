import { join } from 'node:path';
import type { Notifier, NotifyOutcome } from '../ports/notifier';
import type { FeedDefinition } from '../core/feed/feed-definition';
import type { NotifyTarget } from '../core/feed/feed-schema';
import { ConsoleNotifier } from '../adapters/local/console-notifier';
import { OutboxNotifier } from '../adapters/local/outbox-notifier';
import { webhookNotifierFromTarget, WebhookNotifierOptions } from '../adapters/webhook/webhook-notifier';

/** Where local runs keep the outbox: beside the drops, under a name no feed can take. */
export function outboxFile(storeRoot: string): string {
  return join(storeRoot, '_outbox', 'events.jsonl');
}

/** SNS and EventBridge targets are served by the AWS deployment; a local run records that it skipped them. */
class AwsOnlyNotifier implements Notifier {
  constructor(readonly target: string) {}
  async notify(): Promise<NotifyOutcome> {
    return { target: this.target, status: 'skipped', attempts: 0, detail: 'delivered by the AWS deployment; local runs write the outbox instead' };
  }
}

export interface LocalNotifierOptions {
  readonly storeRoot: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly webhook?: Partial<WebhookNotifierOptions>;
  /** Console output of events; off for --json so stdout stays one JSON object. */
  readonly console?: boolean;
}

/**
 * The consumers of one run: the feed's targets plus those of the partner it is for (or of every
 * partner, for a shared drop). Every local run also writes the outbox. Throws ConfigError when a
 * webhook secret is missing, before anything runs.
 */
export function consumerNotifiers(feed: FeedDefinition, partner: string | null, options: LocalNotifierOptions): Notifier[] {
  const partners = feed.spec.partners.filter((p) => partner === null || p.id === partner);
  const targets: NotifyTarget[] = [...feed.spec.notify, ...partners.flatMap((p) => p.notify ?? [])];
  const notifiers: Notifier[] = [new OutboxNotifier({ file: outboxFile(options.storeRoot) })];
  for (const target of targets) {
    if (target.type === 'webhook') notifiers.push(webhookNotifierFromTarget(target, options.env ?? process.env, feed.file, options.webhook));
    else if (target.type === 'console' && options.console !== false) notifiers.push(new ConsoleNotifier());
    else if (target.type === 'sns' || target.type === 'eventbridge') notifiers.push(new AwsOnlyNotifier(target.type));
  }
  return notifiers;
}

/** Operators hear of failed runs: the outbox always, the console unless output is JSON. */
export function operatorNotifiers(options: LocalNotifierOptions): Notifier[] {
  const notifiers: Notifier[] = [new OutboxNotifier({ file: outboxFile(options.storeRoot) })];
  if (options.console !== false) notifiers.push(new ConsoleNotifier());
  return notifiers;
}
