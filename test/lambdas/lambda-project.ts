import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDbEngine } from '../../lib/adapters/duckdb/duckdb-engine';
import { LocalLinkSigner } from '../../lib/adapters/local/local-link-signer';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { feedCatalog } from '../../lib/core/steps/step-deps';
import { fixedClock } from '../../lib/core/ports/clock';
import type { DropEvent, Notifier, NotifyOutcome } from '../../lib/core/ports/notifier';
import { loadProject, Project } from '../../lib/project/load-project';
import type { LambdaDeps } from '../../lambdas/runtime';
import { DAILY_SQL, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';

/** A notifier that remembers what it was told. */
export class RecordingNotifier implements Notifier {
  readonly events: DropEvent[] = [];
  constructor(readonly target: string) {}
  async notify(event: DropEvent): Promise<NotifyOutcome> {
    this.events.push(event);
    return { target: this.target, status: 'sent', attempts: 1 };
  }
}

export const STATEMENTS_FEED = `name: statements
description: each partner's own events
owner: tests@example.com
schedule:
  cron: "0 6 * * *"
  timezone: UTC
sla:
  deliverWithin: PT2H
delivery: per-partner
formats:
  csv: { gzip: false }
partners:
  - id: acme
  - id: globex
links: { expiresIn: PT30M }
`;

// $partner_id stands in WHERE, the only place Athena takes a parameter.
export const STATEMENTS_SQL = `SELECT id, label, amount FROM events
WHERE $partner_id IS NOT NULL AND happened_at >= $window_start AND happened_at < $window_end ORDER BY id
`;

export interface LambdaProject {
  readonly temp: TempProject;
  readonly project: Project;
  readonly store: LocalStore;
  readonly deps: LambdaDeps;
  readonly consumers: RecordingNotifier;
  readonly operators: RecordingNotifier;
  close(): Promise<void>;
}

/**
 * A project with a shared feed `daily` (partner acme) and a per-partner feed `statements` (acme,
 * globex), and the deps a Lambda container would build, on the local store and DuckDB standing in
 * for S3 and Athena. `dupes` makes the 15th's data fail `unique`.
 */
export async function lambdaProject(
  options: { dupes?: boolean; now?: string; dailyExtra?: string; files?: Record<string, string> } = {},
): Promise<LambdaProject> {
  const temp = tempProject({
    'dropkit.yaml': 'name: test\nprefix: drops\nsources:\n  events: data/events.parquet\n',
    'feeds/daily.yaml': dailyFeed('daily', 'partners:\n  - id: acme\n' + (options.dailyExtra ?? '')),
    'feeds/daily.sql': DAILY_SQL,
    'feeds/statements.yaml': STATEMENTS_FEED,
    'feeds/statements.sql': STATEMENTS_SQL,
    ...options.files,
  });
  await writeParquet(join(temp.dir, 'data/events.parquet'), eventsSelect(options.dupes));
  const project = loadProject(temp.dir);
  const store = new LocalStore(project.outputDir);
  const engine = await DuckDbEngine.open({ store, sources: project.sources, workDir: join(temp.dir, 'work'), prefix: project.spec.prefix });
  const consumers = new RecordingNotifier('consumers');
  const operators = new RecordingNotifier('operators');
  const deps: LambdaDeps = {
    config: {
      bucket: 'test',
      prefix: project.spec.prefix,
      workgroup: 'wg',
      stagingDatabase: 'db',
      sourceDatabase: undefined,
      opsTopicArn: undefined,
      feedTopicArnPrefix: undefined,
      eventBusName: undefined,
      leaseTtlSeconds: 3600,
      partnerSecretPrefix: undefined,
      kmsKeyArn: undefined,
    },
    definitions: project.feeds,
    prefix: project.spec.prefix,
    store,
    clock: fixedClock(options.now ?? '2024-01-16T07:00:00Z'),
    feeds: feedCatalog(project.feeds),
    engine,
    signer: new LocalLinkSigner(store),
    consumers: () => [consumers],
    operators: [operators],
    lease: { ttlSeconds: 3600 },
    newAttemptId: () => randomBytes(6).toString('hex'),
  };
  return {
    temp,
    project,
    store,
    deps,
    consumers,
    operators,
    close: async () => {
      await engine.close();
      temp.cleanup();
    },
  };
}

/** A fixture event from test/fixtures/events/<source>/<name>.json. */
export function fixture<T = any>(source: 'scheduler' | 'stepfunctions' | 'apigateway', name: string): T {
  return JSON.parse(readFileSync(join(__dirname, '../fixtures/events', source, `${name}.json`), 'utf8')) as T;
}
