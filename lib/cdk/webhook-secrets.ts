import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { ConfigError, ConfigProblem } from '../core/errors';
import type { FeedDefinition } from '../core/feed/feed-definition';
import type { WebhookTarget } from '../core/feed/feed-schema';

/** Every webhook of a feed, with where it is in the feed file. */
function webhooksOf(feed: FeedDefinition): { path: string; target: WebhookTarget }[] {
  const out: { path: string; target: WebhookTarget }[] = [];
  feed.spec.notify.forEach((t, i) => t.type === 'webhook' && out.push({ path: `notify[${i}]`, target: t }));
  feed.spec.partners.forEach((p, j) =>
    (p.notify ?? []).forEach((t, i) => t.type === 'webhook' && out.push({ path: `partners[${j}].notify[${i}]`, target: t })),
  );
  return out;
}

/**
 * Refuses at synth a webhook the deployed pipeline could not sign: a Lambda has no environment of
 * the user's, so the secret must be named in Secrets Manager. Every such webhook is named, with the fix.
 */
export function assertWebhooksDeployable(feeds: readonly FeedDefinition[]): void {
  const problems: ConfigProblem[] = [];
  for (const feed of feeds)
    for (const { path, target } of webhooksOf(feed))
      if (!target.secret)
        problems.push({
          file: feed.file,
          path: `${path}.secret`,
          message: `the webhook ${target.url} names only the environment variable ${target.secretEnv}, which the deployed functions do not have`,
          value: target.secretEnv,
          fix: `store the HMAC secret in Secrets Manager (aws secretsmanager create-secret --name dropkit/webhooks/<name> --secret-string …) and add secret: { name: dropkit/webhooks/<name> } beside secretEnv`,
        });
  if (problems.length) throw new ConfigError(problems);
}

/** The Secrets Manager names of the project's webhook secrets, sorted and once each. */
export function webhookSecretNames(feeds: readonly FeedDefinition[]): string[] {
  return [...new Set(feeds.flatMap((f) => webhooksOf(f).flatMap(({ target }) => (target.secret ? [target.secret.name] : []))))].sort();
}

/** Lets each function read exactly the named secrets (Secrets Manager appends six random characters to a secret's ARN). */
export function grantWebhookSecrets(stack: Stack, names: readonly string[], grantees: readonly IGrantable[]): void {
  if (names.length === 0) return;
  const resources = names.map((name) =>
    stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${name}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
  );
  for (const g of grantees) g.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources }));
}
