import { join } from 'node:path';
import type { Notifier, NotifyOutcome } from '../core/ports/notifier';
import type { FeedDefinition } from '../core/feed/feed-definition';
import type { NotifyTarget } from '../core/feed/feed-schema';
import { ConsoleNotifier } from '../adapters/local/console-notifier';
import { OutboxNotifier } from '../adapters/local/outbox-notifier';
import { routeConsumers } from '../core/graph/notice-routing';
import { LOCAL_OUTBOX_FILE } from '../core/layout';
import { webhookNotifierFromTarget, WebhookNotifierOptions } from '../adapters/webhook/webhook-notifier';

/** Where local runs keep the outbox: beside the drops, under a name no feed can take. */
export function outboxFile(storeRoot: string): string {
  return join(storeRoot, ...LOCAL_OUTBOX_FILE.split('/'));
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
  return routeConsumers(feed, partner, {
    always: () => [new OutboxNotifier({ file: outboxFile(options.storeRoot) })],
    target: (target: NotifyTarget) => {
      if (target.type === 'webhook') {
        // A secret kept only in Secrets Manager is the deployment's to use.
        if (!target.secretEnv) return new AwsOnlyNotifier(`webhook ${target.url}`);
        return webhookNotifierFromTarget({ ...target, secretEnv: target.secretEnv }, options.env ?? process.env, feed.file, options.webhook);
      }
      if (target.type === 'console') return options.console !== false ? new ConsoleNotifier() : undefined;
      if (target.type === 'sns' || target.type === 'eventbridge') return new AwsOnlyNotifier(target.type);
      return undefined;
    },
  });
}

/** Operators hear of failed runs: the outbox always, the console unless output is JSON. */
export function operatorNotifiers(options: LocalNotifierOptions): Notifier[] {
  const notifiers: Notifier[] = [new OutboxNotifier({ file: outboxFile(options.storeRoot) })];
  if (options.console !== false) notifiers.push(new ConsoleNotifier());
  return notifiers;
}
