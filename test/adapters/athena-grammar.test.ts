import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { AthenaEngine } from '../../lib/adapters/athena/athena-engine';
import { dropTableSql, quoteIdent } from '../../lib/adapters/athena/athena-sql';
import { LocalStore } from '../../lib/adapters/local/local-store';
import { runRecordsPrefix } from '../../lib/core/layout';
import { loadProject } from '../../lib/project/load-project';
import { runSlot } from '../../lib/runner/run-slot';
import { FakeAthena } from '../helpers/fake-athena';
import { listKeys, localDeps, readJson } from '../helpers/local-run';
import { athenaGrammarErrors, hiveErrors } from '../helpers/sql-grammars';
import { dailyFeed, tempProject, TempProject } from '../helpers/temp-project';

const BUCKET = 'drops-bucket';
const FEED_SQL = `SELECT id, label, amount, happened_at FROM src
WHERE happened_at >= $window_start AND happened_at < $window_end ORDER BY id
`;

describe('the statements the Athena engine sends in a full run', () => {
  let project: TempProject;
  let root: string;
  let fake: FakeAthena;
  let store: LocalStore;
  let client: AthenaClient;
  let mock: ReturnType<FakeAthena['install']>;
  beforeAll(async () => {
    project = tempProject({
      'dropkit.yaml': 'name: test\n',
      'feeds/daily.yaml': dailyFeed('daily'),
      'feeds/daily.sql': FEED_SQL,
    });
    root = await mkdtemp(join(tmpdir(), 'dropkit-athena-grammar-'));
    store = new LocalStore(join(root, 'store'));
    fake = await FakeAthena.create(store, BUCKET);
    client = new AthenaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    mock = fake.install(client);
  });
  afterAll(async () => {
    mock.restore();
    await fake.close();
    await rm(root, { recursive: true, force: true });
    project.cleanup();
  });

  it('deliver with nothing pending (the staged table is dropped), every DDL parsing as Hive and every query, CTAS and UNLOAD as Trino', async () => {
    const loaded = loadProject(project.dir);
    const outcome = await runSlot(
      { feed: 'daily', partner: null, slot: new Date('2024-01-16T06:00:00Z') },
      {
        ...localDeps(loaded, { now: '2024-01-16T07:00:00Z', store }),
        openEngine: async () => new AthenaEngine({ workGroup: 'wg', stagingDatabase: 'dk_staging', bucket: BUCKET, store, client, pollIntervalMs: 1 }),
      },
    );
    expect(outcome.status).toBe('delivered');
    expect(outcome.pending).toEqual([]);
    const records = (await listKeys(store, runRecordsPrefix(loaded.spec.prefix, 'daily'))).filter((k) => k.endsWith(`${outcome.runId}.json`));
    expect(records).toHaveLength(1);
    expect((await readJson<{ pending: string[] }>(store, records[0])).pending).toEqual([]);

    const sent = mock.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.QueryString!);
    const kinds = new Set<string>();
    for (const sql of sent) {
      const { grammar, errors } = athenaGrammarErrors(sql);
      kinds.add(grammar);
      expect({ sql, errors }).toEqual({ sql, errors: [] });
    }
    // Each grammar was exercised: the run staged (CTAS), checked (SELECT), unloaded and dropped.
    expect([...kinds].sort()).toEqual(['hive', 'trino', 'unload']);
    expect(sent.some((s) => s.startsWith('DROP TABLE IF EXISTS `dk_staging`.`stg_'))).toBe(true);
  });

  it("write DROP TABLE with backticks, which Hive's grammar takes, where Trino's double quotes are refused", () => {
    expect(dropTableSql('dk_staging', 'stg_a')).toBe('DROP TABLE IF EXISTS `dk_staging`.`stg_a`');
    expect(hiveErrors(dropTableSql('dk_staging', 'stg_a'))).toEqual([]);
    expect(hiveErrors(`DROP TABLE IF EXISTS ${quoteIdent('dk_staging')}.${quoteIdent('stg_a')}`)).not.toEqual([]);
  });
});
