import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { S3Model, mockS3 } from '../helpers/s3-model';
import { DAILY_SQL, PROJECT_YAML, dailyFeed, eventsSelect, tempProject, TempProject, writeParquet } from '../helpers/temp-project';
import { main } from '../../lib/cli/main';

/** Runs the CLI in this process (so the mocked S3 client is the one it uses); returns exit code and stdout. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

describe('the CLI against S3 (dropkit run --store s3://…)', () => {
  let p: TempProject;
  let model: S3Model;
  let stub: ReturnType<typeof mockS3>;
  const env = { ...process.env };
  beforeAll(() => {
    Object.assign(process.env, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret' });
  });
  afterAll(() => {
    process.env = env;
  });
  beforeEach(async () => {
    p = tempProject({ 'dropkit.yaml': PROJECT_YAML, 'feeds/daily.yaml': dailyFeed(), 'feeds/daily.sql': DAILY_SQL });
    await writeParquet(join(p.dir, 'data/events.parquet'), eventsSelect());
    model = new S3Model();
    model.createBucket('drops');
    stub = mockS3(model);
  });
  afterEach(() => {
    stub.restore();
    p.cleanup();
  });

  it('delivers into the bucket under the prefix, manifest last, with presigned links in the notice', async () => {
    const r = await cli([
      'run',
      'daily',
      '--project',
      p.dir,
      '--store',
      's3://drops/exchange',
      '--slot',
      '2024-01-15T06:00:00Z',
      '--now',
      '2024-01-15T07:00:00Z',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/dropkit run/);
    const out = JSON.parse(r.stdout);
    expect(out.manifest).toBe(`s3://drops/exchange/${out.manifestKey}`);
    const manifest = JSON.parse(model.object('drops', `exchange/${out.manifestKey}`)!.toString('utf8'));
    for (const f of manifest.files) {
      const body = model.object('drops', `exchange/${out.manifestKey.replace('manifest.json', f.path)}`)!;
      expect([body.length, createHash('sha256').update(body).digest('hex')]).toEqual([f.bytes, f.sha256]);
    }
    expect(model.object('drops', 'exchange/daily/latest.json')).toBeDefined();
    expect(model.keys('drops').filter((k) => k.includes('_staging/'))).toEqual([]);
    const [event] = readFileSync(join(p.dir, 'out', '_outbox', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const link = new URL(event.manifest.link.url);
    expect([link.hostname.startsWith('drops'), decodeURIComponent(link.pathname).endsWith(`/exchange/${out.manifestKey}`)]).toEqual([true, true]);
    expect(link.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(event.manifest.link.expiresAt)).toBeGreaterThan(Date.now());
  });

  it('refuses --engine athena without an S3 store, or without its workgroup, with exit 2', async () => {
    const noStore = await cli(['run', 'daily', '--project', p.dir, '--engine', 'athena', '--slot', '2024-01-15T06:00:00Z', '--now', '2024-01-15T07:00:00Z']);
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toMatch(/--engine athena stages and exports in S3: give --store s3:\/\/bucket\/prefix too/);
    const noWorkgroup = await cli([
      'run',
      'daily',
      '--project',
      p.dir,
      '--engine',
      'athena',
      '--store',
      's3://drops',
      '--slot',
      '2024-01-15T06:00:00Z',
      '--now',
      '2024-01-15T07:00:00Z',
    ]);
    expect(noWorkgroup.code).toBe(2);
    expect(noWorkgroup.stderr).toMatch(/--workgroup NAME and --staging-database NAME/);
  });
});
