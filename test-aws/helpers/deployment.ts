import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Template } from 'aws-cdk-lib/assertions';
import { Template as T } from 'aws-cdk-lib/assertions';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { flattenCfn } from '../../lib/cdk/acknowledgements';
import { FileExchangeStack } from '../../lib/cdk/file-exchange-stack';
import { writeFeedsFile } from '../../lib/cdk/lambda-packaging';
import { loadProject } from '../../lib/project/load-project';
import { buildLambdaDeps, LambdaDeps } from '../../lambdas/runtime';
import { testApp } from '../../test/cdk/cdk-app';
import { grantsOf, Grant } from '../../test/cdk/iam';
import { FakeAthena } from '../../test/helpers/fake-athena';
import { CallRecorder } from './iam-audit';
import { createBucket, motoS3Client, uniqueName } from './moto';
import { createTopic } from './queues';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

/** The Lambda functions of the construct, by the name in their logical id (`Exchange<Name>Function`). */
export type FunctionName =
  'Plan' | 'CompileStage' | 'CompleteStage' | 'Validate' | 'Render' | 'Publish' | 'Notify' | 'FailRun' | 'SlaWatch' | 'LinkBroker' | 'PartnerAuthorizer';

/** The FileExchange part (sub-construct) each function lives in: its logical id is Exchange<part><name>Function…. */
const PART: Record<FunctionName, string> = {
  Plan: 'Pipeline',
  CompileStage: 'Pipeline',
  CompleteStage: 'Pipeline',
  Validate: 'Pipeline',
  Render: 'Pipeline',
  Publish: 'Pipeline',
  Notify: 'Pipeline',
  FailRun: 'Pipeline',
  SlaWatch: 'Monitoring',
  LinkBroker: 'LinkBroker',
  PartnerAuthorizer: 'LinkBroker',
};

/** The logical id stem of a role: `<Name>Function` for a function's, `Pipeline` for the state machine's. */
function roleStem(role: string): string {
  if (role === 'Pipeline') return 'ExchangePipelineStateMachineRole';
  const name = role.replace(/Function$/, '') as FunctionName;
  return `Exchange${PART[name]}${role}Role`;
}

/**
 * A synthesized FileExchangeStack "deployed" onto moto: its bucket and topics exist there, each
 * function's environment is the template's with every reference resolved to them, each function's
 * deps are built by `buildLambdaDeps` from that environment (real SDK clients, pointed at moto by
 * AWS_ENDPOINT_URL), Athena is the repository's fake (its files mirrored into the moto bucket),
 * and each role's grants are the template's, resolved the same way.
 */
export class Deployment {
  readonly recorder = new CallRecorder({ region: REGION, account: ACCOUNT });
  private readonly deps = new Map<FunctionName, LambdaDeps>();
  private readonly athenaDir = mkdtempSync(join(tmpdir(), 'dropkit-athena-'));
  private readonly mirrored = new Set<string>();
  private fake?: FakeAthena;
  private athenaStub?: { restore(): void };
  private restoreAthena?: () => void;

  private constructor(
    readonly template: Template,
    readonly bucket: string,
    readonly opsTopicArn: string,
    readonly feedTopicArnPrefix: string,
    private readonly tokens: ReadonlyMap<string, string>,
    readonly feedsFile: string,
    readonly workGroup: string,
  ) {}

  static async deploy(projectDir: string, sourceSql: Record<string, string>): Promise<Deployment> {
    const stack = new FileExchangeStack(testApp(), 'Dropkit', { projectDir, env: { account: ACCOUNT, region: REGION } });
    const template = T.fromStack(stack);
    const bucket = await createBucket('drops');
    const opsTopicArn = await createTopic(uniqueName('ops'));
    const tokens = new Map<string, string>([
      ['AWS::Partition', 'aws'],
      ['AWS::Region', REGION],
      ['AWS::AccountId', ACCOUNT],
    ]);
    const workGroup = uniqueName('wg');
    for (const [id, r] of Object.entries(template.toJSON().Resources as Record<string, { Type: string }>)) {
      if (r.Type === 'AWS::S3::Bucket' && /^ExchangeDropsBucketDrops[0-9A-F]{8}$/.test(id)) {
        tokens.set(id, bucket);
        tokens.set(`${id}.Arn`, `arn:aws:s3:::${bucket}`);
      } else if (r.Type === 'AWS::SNS::Topic' && id.startsWith('ExchangeOpsTopic')) tokens.set(id, opsTopicArn);
      else if (r.Type === 'AWS::Athena::WorkGroup') tokens.set(id, workGroup);
    }
    const env = functionEnv(template, 'Plan', (flat) => resolveTokens(flat, tokens));
    const feedTopicArnPrefix = env.DROPKIT_FEED_TOPIC_ARN_PREFIX!;
    const project = loadProject(projectDir, { localSources: false });
    for (const f of project.feeds) await createTopic(feedTopicArnPrefix.split(':').pop()! + f.spec.name);
    const d = new Deployment(template, bucket, opsTopicArn, feedTopicArnPrefix, tokens, writeFeedsFile(project.feeds), workGroup);
    await d.startAthena(sourceSql);
    d.recorder.workGroup = workGroup;
    d.recorder.install();
    return d;
  }

  /** A CloudFormation-flattened string (`<Id.Attr>` tokens) with the deployed names in place. */
  resolve(flat: string): string {
    return resolveTokens(flat, this.tokens);
  }

  /** The function's environment as the template gives it, resolved, plus the bundled feeds file. */
  env(name: FunctionName): NodeJS.ProcessEnv {
    return { ...process.env, ...functionEnv(this.template, name, (s) => this.resolve(s)), DROPKIT_FEEDS_FILE: this.feedsFile };
  }

  /** The deps the function's container builds at cold start, from its environment. */
  depsOf(name: FunctionName): LambdaDeps {
    let d = this.deps.get(name);
    if (!d) this.deps.set(name, (d = buildLambdaDeps(this.env(name))));
    return d;
  }

  /** The role's grants from the template, resolved to the deployed ARNs. */
  grants(role: string): Grant[] {
    return grantsOf(this.template, roleStem(role)).map((g) => ({ ...g, resource: this.resolve(g.resource) }));
  }

  /** The state machine's own Athena call (the Pipeline role), as `arn:aws:states:::athena:startQueryExecution` makes it. */
  athenaClient(): AthenaClient {
    return new AthenaClient({});
  }

  async startQuery(compiled: { statement: { sql: string; token: string }; executionParameters: string[]; hasParameters: boolean }): Promise<string> {
    const out = await this.athenaClient().send(
      new StartQueryExecutionCommand({
        QueryString: compiled.statement.sql,
        ClientRequestToken: compiled.statement.token,
        WorkGroup: this.workGroup,
        ...(compiled.hasParameters ? { ExecutionParameters: compiled.executionParameters } : {}),
      }),
    );
    return out.QueryExecutionId!;
  }

  /** The fake answers every AthenaClient; what it writes is mirrored into the moto bucket after each query. */
  private async startAthena(sourceSql: Record<string, string>): Promise<void> {
    this.fake = await FakeAthena.create(new LocalStore(this.athenaDir), this.bucket);
    const conn = (this.fake as unknown as { conn: { run(sql: string): Promise<unknown> } }).conn;
    for (const [table, sql] of Object.entries(sourceSql)) await conn.run(`CREATE TABLE ${table} AS ${sql}`);
    this.athenaStub = this.fake.install(AthenaClient as unknown as AthenaClient);
    const stubbed = AthenaClient.prototype.send;
    const recorder = this.recorder;
    const mirror = () => this.mirror();
    AthenaClient.prototype.send = async function (this: AthenaClient, command: any, ...rest: any[]) {
      recorder.record('athena', command.constructor.name.replace(/Command$/, ''), command.input);
      const out = await (stubbed as any).call(this, command, ...rest);
      if (command instanceof StartQueryExecutionCommand) await mirror();
      return out;
    } as typeof stubbed;
    this.restoreAthena = () => void (AthenaClient.prototype.send = stubbed);
  }

  /** Athena's own writes (CTAS, UNLOAD, result CSV) land in the bucket, not through any role we audit. */
  private async mirror(): Promise<void> {
    const store = new LocalStore(this.athenaDir);
    const s3 = motoS3Client();
    await this.recorder.outside(async () => {
      for await (const o of store.list('')) {
        if (this.mirrored.has(o.key)) continue;
        this.mirrored.add(o.key);
        await s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: o.key, Body: (await store.get(o.key))!.body }));
      }
    });
  }

  async close(): Promise<void> {
    this.recorder.restore();
    this.restoreAthena?.();
    this.athenaStub?.restore();
    await this.fake?.close();
    rmSync(this.athenaDir, { recursive: true, force: true });
  }
}

function resolveTokens(flat: string, tokens: ReadonlyMap<string, string>): string {
  return flat.replace(/<([^<>]+)>/g, (all, token: string) => tokens.get(token) ?? all);
}

function functionEnv(template: Template, name: FunctionName, resolve: (s: string) => string): Record<string, string> {
  const fns = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
    new RegExp(`^Exchange${PART[name]}${name}Function[0-9A-F]{8}$`).test(id),
  );
  if (fns.length !== 1) throw new Error(`expected one function Exchange${PART[name]}${name}Function, found ${fns.map(([id]) => id).join(', ') || 'none'}`);
  const vars = (fns[0]![1].Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolve(flattenCfn(v))]));
}
