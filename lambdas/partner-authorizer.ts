import { createHash, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PARTNER_ID } from '../lib/core/feed/feed-schema';
import { logger, tracer } from './observability';
import { ENV, RUNTIME_DEFAULTS } from '../lib/core/deploy-contract';

/** API Gateway's TOKEN authorizer event. */
export interface TokenAuthorizerEvent {
  readonly type: 'TOKEN';
  readonly authorizationToken: string;
  readonly methodArn: string;
}

export interface AuthorizerResult {
  readonly principalId: string;
  readonly policyDocument: { readonly Version: '2012-10-17'; readonly Statement: readonly { Action: string; Effect: 'Allow' | 'Deny'; Resource: string }[] };
  readonly context?: Record<string, string>;
}

/** Reads the stored SHA-256 (hex) of a partner's key; undefined when the partner has none. */
export type PartnerKeyHashes = (partnerId: string) => Promise<string | undefined>;

/**
 * Checks `Authorization: Bearer <partner-id>.<key>` against the SHA-256 of the key stored for that
 * partner (never the key itself). Allows every method of the API to that partner, who is passed on
 * as `partnerId`; the broker then serves only that partner's drops. Anything else is denied (403).
 */
export function makePartnerAuthorizer(hashes: PartnerKeyHashes) {
  return async (event: TokenAuthorizerEvent): Promise<AuthorizerResult> => {
    const m = /^Bearer ([a-z0-9][a-z0-9-]{0,62})\.([A-Za-z0-9_-]{16,256})$/.exec(event.authorizationToken ?? '');
    const apiArn = event.methodArn.split('/').slice(0, 2).join('/') + '/*';
    const deny = (why: string): AuthorizerResult => {
      logger.info('partner denied', { why });
      return { principalId: 'anonymous', policyDocument: policy('Deny', apiArn) };
    };
    if (!m || !PARTNER_ID.test(m[1])) return deny('malformed token');
    const [, partnerId, key] = m;
    const stored = await hashes(partnerId);
    if (!stored || !/^[0-9a-f]{64}$/.test(stored)) return deny(`no key stored for ${partnerId}`);
    const given = createHash('sha256').update(key).digest();
    if (!timingSafeEqual(given, Buffer.from(stored, 'hex'))) return deny(`wrong key for ${partnerId}`);
    return { principalId: partnerId, policyDocument: policy('Allow', apiArn), context: { partnerId } };
  };
}

function policy(effect: 'Allow' | 'Deny', resource: string): AuthorizerResult['policyDocument'] {
  return { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }] };
}

/**
 * Hashes kept in Secrets Manager, one secret per partner named `<prefix><partner-id>` holding
 * `{"sha256":"<hex>"}`: rotated by putting a new value, no deploy. Cached for a minute per container.
 */
export function secretsManagerHashes(prefix: string, client: SecretsManagerClient, ttlMs = 60_000): PartnerKeyHashes {
  const cache = new Map<string, { at: number; hash: string | undefined }>();
  return async (partnerId) => {
    const hit = cache.get(partnerId);
    if (hit && Date.now() - hit.at < ttlMs) return hit.hash;
    let hash: string | undefined;
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: prefix + partnerId }));
      hash = (JSON.parse(out.SecretString ?? '{}') as { sha256?: unknown }).sha256 as string | undefined;
    } catch (e) {
      if ((e as Error).name !== 'ResourceNotFoundException') throw e;
    }
    cache.set(partnerId, { at: Date.now(), hash });
    return hash;
  };
}

let built: ReturnType<typeof makePartnerAuthorizer> | undefined;
export const handler = (event: TokenAuthorizerEvent) => {
  built ??= makePartnerAuthorizer(
    secretsManagerHashes(process.env[ENV.partnerSecretPrefix] ?? RUNTIME_DEFAULTS.partnerSecretPrefix, tracer.captureAWSv3Client(new SecretsManagerClient({}))),
  );
  return built(event);
};
