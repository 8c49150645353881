import { AthenaClient } from '@aws-sdk/client-athena';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Grant } from '../../test/cdk/iam';

/** One request a handler made, as IAM sees it: the action, the resource ARN and the condition keys. */
export interface IamCall {
  readonly role: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string>>;
  /** What was sent, for the failure message. */
  readonly request: string;
}

export interface Arns {
  readonly region: string;
  readonly account: string;
}

type Input = Record<string, any>;

/**
 * What IAM authorizes for each SDK command the handlers send (the service authorization
 * reference): S3 object actions on `bucket/key`, ListBucket on the bucket with `s3:prefix`, SNS
 * on the topic, EventBridge on the bus, Secrets Manager on the secret, Athena on the workgroup.
 * A command not listed maps to `<service>:<Operation>` on `*`, so a new call must be granted.
 */
export function iamActionsOf(
  service: string,
  operation: string,
  input: Input,
  arns: Arns,
): { action: string; resource: string; context?: Record<string, string> }[] {
  const object = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
  const copySource = (source: string) => {
    const [bucket, ...key] = decodeURIComponent(source.split('?')[0]!).replace(/^\//, '').split('/');
    return object(bucket!, key.join('/'));
  };
  if (service === 's3') {
    const o = input.Bucket && input.Key !== undefined ? object(input.Bucket, input.Key) : '';
    switch (operation) {
      case 'GetObject':
      case 'HeadObject':
        return [{ action: input.VersionId ? 's3:GetObjectVersion' : 's3:GetObject', resource: o }];
      case 'PutObject':
      case 'CreateMultipartUpload':
        // A canned ACL on the write (a partner's bucket-owner-full-control) is PutObjectAcl as well.
        return [{ action: 's3:PutObject', resource: o }, ...(input.ACL ? [{ action: 's3:PutObjectAcl', resource: o }] : [])];
      case 'UploadPart':
      case 'CompleteMultipartUpload':
        return [{ action: 's3:PutObject', resource: o }];
      case 'CopyObject':
      case 'UploadPartCopy':
        return [
          { action: 's3:PutObject', resource: o },
          { action: 's3:GetObject', resource: copySource(input.CopySource) },
        ];
      case 'AbortMultipartUpload':
        return [{ action: 's3:AbortMultipartUpload', resource: o }];
      case 'DeleteObject':
        return [{ action: input.VersionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: o }];
      case 'DeleteObjects':
        return (input.Delete?.Objects ?? []).map((k: { Key: string }) => ({ action: 's3:DeleteObject', resource: object(input.Bucket, k.Key) }));
      case 'ListObjectsV2':
      case 'ListObjects':
        return [{ action: 's3:ListBucket', resource: `arn:aws:s3:::${input.Bucket}`, context: { 's3:prefix': input.Prefix ?? '' } }];
    }
  }
  if (service === 'sts' && operation === 'AssumeRole') return [{ action: 'sts:AssumeRole', resource: input.RoleArn }];
  if (service === 'transfer' && (operation === 'StartFileTransfer' || operation === 'ListFileTransferResults'))
    return [{ action: `transfer:${operation}`, resource: `arn:aws:transfer:${arns.region}:${arns.account}:connector/${input.ConnectorId}` }];
  if (service === 'sns' && operation === 'Publish') return [{ action: 'sns:Publish', resource: input.TopicArn }];
  if (service === 'eventbridge' && operation === 'PutEvents') {
    const buses = new Set<string>((input.Entries ?? []).map((e: { EventBusName?: string }) => e.EventBusName ?? 'default'));
    return [...buses].map((bus) => ({
      action: 'events:PutEvents',
      resource: bus.startsWith('arn:') ? bus : `arn:aws:events:${arns.region}:${arns.account}:event-bus/${bus}`,
    }));
  }
  if (service === 'secretsmanager' && operation === 'GetSecretValue') {
    const id: string = input.SecretId;
    // A secret's ARN ends in "-" and six random characters after its name.
    return [
      {
        action: 'secretsmanager:GetSecretValue',
        resource: id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${arns.region}:${arns.account}:secret:${id}-AbCdEf`,
      },
    ];
  }
  if (service === 'athena') {
    if (operation === 'GetTableMetadata')
      return [
        { action: 'athena:GetTableMetadata', resource: `arn:aws:athena:${arns.region}:${arns.account}:datacatalog/${input.CatalogName ?? 'AwsDataCatalog'}` },
      ];
    return [
      { action: `athena:${operation}`, resource: `arn:aws:athena:${arns.region}:${arns.account}:workgroup/${input.WorkGroup ?? '<workgroup of the query>'}` },
    ];
  }
  return [{ action: `${service}:${operation}`, resource: '*' }];
}

const SERVICES: [new (...a: any[]) => any, string][] = [
  [S3Client, 's3'],
  [SNSClient, 'sns'],
  [EventBridgeClient, 'eventbridge'],
  [SecretsManagerClient, 'secretsmanager'],
  [AthenaClient, 'athena'],
];

/**
 * Records every SDK call made while a role is "assumed" (`as(role, fn)`), by wrapping the clients'
 * shared `send`: the calls still go to moto over HTTP with SigV4; this only writes down what IAM
 * would be asked. Athena calls answered by the fake (a stub on the instance) are recorded through
 * `record` by the caller.
 */
export class CallRecorder {
  readonly calls: IamCall[] = [];
  role: string | undefined;
  private readonly restores: (() => void)[] = [];
  /** Athena's workgroup is not in every request (Get*, by execution id): the deployment's one is. */
  workGroup: string | undefined;

  constructor(readonly arns: Arns) {}

  install(): this {
    const patched = new Set<object>();
    for (const [Client, service] of SERVICES) {
      const proto = Object.getPrototypeOf(Client.prototype) as { send: (...a: any[]) => any };
      if (patched.has(proto)) continue;
      patched.add(proto);
      const original = proto.send;
      // An arrow function keeps the recorder as `this`; the client is passed in.
      const sendRecorded = (client: { config?: { serviceId?: string } }, command: { input: Input; constructor: { name: string } }, rest: any[]) => {
        const id = (client.config?.serviceId ?? service).toLowerCase().replace(/\s+/g, '');
        const operation = command.constructor.name.replace(/Command$/, '');
        const role = this.role;
        this.record(id, operation, command.input);
        const sent = original.call(client, command, ...rest) as Promise<unknown>;
        if (id !== 's3' || (operation !== 'GetObject' && operation !== 'HeadObject')) return sent;
        return sent.catch((error: { $metadata?: { httpStatusCode?: number } }) => {
          // S3 answers 404 for a missing key only to a caller that may list the bucket; to anyone
          // else it answers 403, which the store does not take for "absent". That permission is
          // checked in the GetObject's own context: no s3:prefix key.
          if (error?.$metadata?.httpStatusCode === 404 && role) {
            this.calls.push({
              role,
              action: 's3:ListBucket',
              resource: `arn:aws:s3:::${command.input.Bucket}`,
              context: {},
              request: `s3.${operation} of a missing key (404 needs ListBucket)`,
            });
          }
          throw error;
        });
      };
      proto.send = function (this: { config?: { serviceId?: string } }, command: { input: Input; constructor: { name: string } }, ...rest: any[]) {
        return sendRecorded(this, command, rest);
      };
      this.restores.push(() => void (proto.send = original));
    }
    return this;
  }

  restore(): void {
    for (const r of this.restores.splice(0)) r();
  }

  record(service: string, operation: string, input: Input): void {
    if (!this.role) return;
    const withGroup = service === 'athena' && !input.WorkGroup && this.workGroup ? { ...input, WorkGroup: this.workGroup } : input;
    for (const a of iamActionsOf(service, operation, withGroup, this.arns)) {
      this.calls.push({ role: this.role, action: a.action, resource: a.resource, context: a.context ?? {}, request: `${service}.${operation}` });
    }
  }

  /** Runs `fn` unrecorded (the test's own setup, or a service acting for itself). */
  async outside<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.role;
    this.role = undefined;
    try {
      return await fn();
    } finally {
      this.role = before;
    }
  }

  /** Runs `fn` as `role`: what it calls is recorded against that role. */
  async as<T>(role: string, fn: () => Promise<T>): Promise<T> {
    const before = this.role;
    this.role = role;
    try {
      return await fn();
    } finally {
      this.role = before;
    }
  }
}

/** IAM's wildcard match: `*` any run of characters (slashes included), `?` one. */
export function iamLike(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    ignoreCase ? 'i' : '',
  );
  return re.test(value);
}

/** Whether a grant's conditions hold for a call's context; an operator it does not know never holds. */
function conditionHolds(condition: unknown, context: Readonly<Record<string, string>>): boolean {
  if (!condition) return true;
  for (const [operator, keys] of Object.entries(condition as Record<string, Record<string, string | string[]>>)) {
    // `…IfExists` holds where the request has no such key.
    const ifExists = operator.endsWith('IfExists');
    const base = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
    for (const [key, wanted] of Object.entries(keys)) {
      const value = context[key];
      if (value === undefined) {
        if (ifExists) continue;
        return false;
      }
      const values = ([] as string[]).concat(wanted);
      if (base === 'StringLike' && !values.some((p) => iamLike(p, value))) return false;
      else if (base === 'StringEquals' && !values.includes(value)) return false;
      else if (base !== 'StringLike' && base !== 'StringEquals') return false;
    }
  }
  return true;
}

/** The grants that allow a call (none: IAM denies it). */
export function grantsAllowing(call: IamCall, grants: readonly Grant[]): Grant[] {
  return grants.filter((g) => iamLike(g.action, call.action, true) && iamLike(g.resource, call.resource) && conditionHolds(g.condition, call.context));
}

export interface Audit {
  /** `role action resource (request)` for every call no grant allows. */
  readonly denied: string[];
  /** `role action resource` for every grant no call used. */
  readonly unused: string[];
}

/** Evaluates the recorded calls against each role's grants (already resolved to concrete ARNs). */
export function audit(calls: readonly IamCall[], grantsByRole: ReadonlyMap<string, readonly Grant[]>): Audit {
  const used = new Set<Grant>();
  const denied: string[] = [];
  for (const c of calls) {
    const allowing = grantsAllowing(c, grantsByRole.get(c.role) ?? []);
    if (allowing.length === 0) {
      const ctx = Object.keys(c.context).length ? ` ${JSON.stringify(c.context)}` : '';
      denied.push(`${c.role} ${c.action} ${c.resource}${ctx} (${c.request})`);
    }
    for (const g of allowing) used.add(g);
  }
  const unused: string[] = [];
  for (const [role, grants] of grantsByRole) for (const g of grants) if (!used.has(g)) unused.push(`${role} ${g.action} ${g.resource}`);
  return { denied: [...new Set(denied)], unused };
}
