import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WebhookNotifier, WebhookNotifierOptions } from '../lib/adapters/webhook/webhook-notifier';
import type { WebhookTarget } from '../lib/core/feed/feed-schema';
import type { DropEvent, Notifier, NotifyOutcome } from '../lib/core/ports/notifier';

/** Webhook signing secrets by Secrets Manager name, read once per container (a failed read is tried again next time). */
export class WebhookSecrets {
  private readonly cache = new Map<string, Promise<string>>();
  constructor(private readonly client: SecretsManagerClient) {}

  get(name: string): Promise<string> {
    let got = this.cache.get(name);
    if (!got) {
      got = this.client.send(new GetSecretValueCommand({ SecretId: name })).then((out) => {
        if (!out.SecretString) throw new Error(`secret ${name} holds no SecretString; store the HMAC secret as plain text`);
        return out.SecretString;
      });
      got.catch(() => this.cache.delete(name));
      this.cache.set(name, got);
    }
    return got;
  }
}

/**
 * A feed's webhook on AWS: the same notifier as a local run (timeouts, budget, circuit breaker,
 * idempotency key), its signing secret read from Secrets Manager when the first notice goes out.
 * A secret that cannot be read is a failed outcome, recorded like any other, never a thrown error.
 */
export class SecretWebhookNotifier implements Notifier {
  readonly target: string;
  private readonly name: string;
  constructor(
    private readonly webhook: WebhookTarget,
    private readonly secrets: WebhookSecrets,
    private readonly overrides: Omit<WebhookNotifierOptions, 'url' | 'secret' | 'maxAttempts'> = {},
  ) {
    if (!webhook.secret) throw new Error(`webhook ${webhook.url} names no secret: { name } (the construct refuses such a feed at synth)`);
    this.name = webhook.secret.name;
    this.target = `webhook ${new URL(webhook.url).origin}${new URL(webhook.url).pathname}`;
  }

  async notify(event: DropEvent): Promise<NotifyOutcome> {
    let secret: string;
    try {
      secret = await this.secrets.get(this.name);
    } catch (e) {
      return { target: this.target, status: 'failed', attempts: 0, detail: `cannot read the signing secret ${this.name}: ${(e as Error).message}` };
    }
    return new WebhookNotifier({ ...this.overrides, url: this.webhook.url, secret, maxAttempts: this.webhook.maxAttempts }).notify(event);
  }
}
