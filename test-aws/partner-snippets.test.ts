import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Manifest } from '../lib/core/manifest';
import { runFeed } from '../test/helpers/local-run';
import { serveFolder } from '../test/helpers/static-server';
import { PROJECT_YAML, tempProject, TempProject, writeParquet } from '../test/helpers/temp-project';
import { runPython } from './helpers/python';

const GUIDE = readFileSync(join(__dirname, '..', 'docs', 'partners.md'), 'utf8');

/** A code block of the guide marked `<!-- test: name -->`, exactly as a partner would copy it. */
function block(name: string): string {
  const m = new RegExp(`<!-- test: ${name} -->\\n\`\`\`python\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(GUIDE);
  if (!m) throw new Error(`docs/partners.md has no python block marked <!-- test: ${name} -->`);
  return m[1]!;
}

/** 46 events on 2024-01-14 (the interval of slot 2024-01-15 06:00), id 2 an empty label, id 3 a NULL one; `extra` more rows. */
function events(extra = 0): string {
  return `SELECT i::INTEGER AS id,
      CASE WHEN i = 2 THEN '' WHEN i = 3 THEN NULL ELSE 'l' || i END AS label,
      (i * 1.1)::DECIMAL(10,2) AS amount,
      TIMESTAMP '2024-01-14 08:00:00' + i * INTERVAL 10 MINUTE AS happened_at
    FROM range(1, ${47 + extra}) t(i)`;
}

function feed(name: string, formats: string): string {
  return `name: ${name}
description: partner snippet test feed
owner: tests@example.com
schedule:
  cron: "0 6 * * *"
  timezone: UTC
sla:
  deliverWithin: PT2H
formats:
${formats}
`;
}
const SQL = `SELECT id, label, amount, happened_at FROM events WHERE happened_at >= $window_start AND happened_at < $window_end ORDER BY id\n`;
const SLOT = { slot: '2024-01-15T06:00:00Z', now: '2024-01-15T07:00:00Z' };
const IDS = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("the partner guide's reading snippets (Python, pandas, pyarrow, DuckDB) over drops served on loopback", () => {
  let p: TempProject;
  let server: Awaited<ReturnType<typeof serveFolder>>;
  let work: string;
  const drops: Record<string, { url: string; manifest: Manifest; feedUrl: string }> = {};

  beforeAll(async () => {
    p = tempProject({
      'dropkit.yaml': PROJECT_YAML,
      // Four CSV parts and four Parquet parts.
      'feeds/split.yaml': feed('split', '  csv:\n    maxRowsPerFile: 12\n  parquet:\n    maxRowsPerFile: 12'),
      'feeds/split.sql': SQL,
      // CSV only, gzipped, three parts.
      'feeds/csvonly.yaml': feed('csvonly', '  csv:\n    gzip: true\n    maxRowsPerFile: 20'),
      'feeds/csvonly.sql': SQL,
      'feeds/rerun.yaml': feed('rerun', '  csv:\n    gzip: false\n  parquet: {}'),
      'feeds/rerun.sql': SQL,
    });
    await writeParquet(join(p.dir, 'data/events.parquet'), events());
    let outputDir = '';
    for (const name of ['split', 'csvonly', 'rerun']) {
      const { outcome, project } = await runFeed(p.dir, name, SLOT);
      expect(outcome.status).toBe('delivered');
      outputDir = project.outputDir;
      drops[name] = { url: outcome.manifestKey!, manifest: outcome.manifest!, feedUrl: outcome.manifestKey!.replace(/slot=.*$/, '') };
    }
    // The slot delivered again after the source changed: revision 2 beside revision 1.
    await writeParquet(join(p.dir, 'data/events.parquet'), events(1));
    const again = await runFeed(p.dir, 'rerun', { ...SLOT, now: '2024-01-15T09:00:00Z', rerun: true });
    expect(again.outcome.manifest?.revision).toBe(2);
    drops.rerun2 = { url: again.outcome.manifestKey!, manifest: again.outcome.manifest!, feedUrl: drops.rerun!.feedUrl };
    expect(drops.split!.manifest.files.filter((f) => f.format === 'csv')).toHaveLength(4);
    expect(drops.split!.manifest.files.filter((f) => f.format === 'parquet')).toHaveLength(4);
    expect(drops.csvonly!.manifest.files.map((f) => f.format)).toEqual(['csv', 'csv', 'csv']);
    server = await serveFolder(outputDir);
    for (const d of Object.values(drops)) {
      d.url = `${server.url}/${d.url}`;
      d.feedUrl = `${server.url}/${d.feedUrl}`;
    }
    work = mkdtempSync(join(tmpdir(), 'dropkit-snippets-'));
    writeFileSync(join(work, 'read_drop.py'), block('pandas'));
    writeFileSync(join(work, 'download_drop.py'), block('python-download'));
    writeFileSync(join(work, 'load_drop.py'), block('duckdb-python'));
  });
  afterAll(async () => {
    await server?.close();
    p?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Runs the pandas snippet's read_drop on a URL and returns what it read. */
  async function pandasRead(url: string): Promise<{ revision: number; ids: number[]; labels: (string | null)[] }> {
    const r = await runPython(
      `import json, sys
from read_drop import read_drop, newest_manifest_url
url = sys.argv[1]
manifest, rows = read_drop(newest_manifest_url(url) if url.endswith("/latest.json") else url)
ids = [int(i) for i in rows["id"]]
labels = [None if l != l else l for l in rows["label"]]  # NaN -> None
print(json.dumps({"revision": manifest["revision"], "ids": ids, "labels": labels}))`,
      [url],
      { cwd: work },
    );
    if (r.code !== 0) throw new Error(`pandas snippet failed on ${url}:\n${r.stderr}`);
    return JSON.parse(r.stdout.toString('utf8'));
  }

  it('pandas reads every part of a drop split into four (Parquet preferred): 46 rows, not the first part', async () => {
    const got = await pandasRead(drops.split!.url);
    expect(got.ids).toEqual(IDS(46));
    // Parquet keeps an empty string apart from NULL.
    expect(got.labels.slice(0, 3)).toEqual(['l1', '', null]);
  });

  it('pandas reads a CSV-only, gzipped, three-part drop (no StopIteration for the missing Parquet)', async () => {
    const got = await pandasRead(drops.csvonly!.url);
    expect(got.ids).toEqual(IDS(46));
    // The guide says so: with the empty null text pandas reads "" and NULL both as NaN.
    expect(got.labels.slice(0, 3)).toEqual(['l1', null, null]);
  });

  it('pandas reads only the newest revision of a rerun slot through latest.json', async () => {
    const got = await pandasRead(`${drops.rerun!.feedUrl}latest.json`);
    expect(got).toMatchObject({ revision: 2, ids: IDS(47) });
  });

  it('the pandas script run as a command names feed, slot, revision and rows', async () => {
    const r = await runPython(
      `import runpy, sys; sys.argv = ["read_drop.py", sys.argv[1]]; runpy.run_path("read_drop.py", run_name="__main__")`,
      [`${drops.rerun!.feedUrl}latest.json`],
      { cwd: work },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('rerun slot 20240115T060000Z revision 2: 47 rows\n');
  });

  it('the pandas snippet stops, naming the manifest, when the parts do not add up to rowCount', async () => {
    // A drop whose manifest claims one row more than its parts hold (a part the reader skipped would look the same).
    const folder = mkdtempSync(join(tmpdir(), 'dropkit-short-'));
    const m = { ...drops.csvonly!.manifest, rowCount: 47 };
    writeFileSync(join(folder, 'manifest.json'), JSON.stringify(m));
    const base = drops.csvonly!.url.replace(/manifest\.json$/, '');
    for (const f of m.files) writeFileSync(join(folder, f.path), Buffer.from(await (await fetch(base + f.path)).arrayBuffer()));
    const other = await serveFolder(folder);
    try {
      const r = await runPython(`from read_drop import read_drop; import sys; read_drop(sys.argv[1])`, [`${other.url}/manifest.json`], { cwd: work });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`${other.url}/manifest.json: read 46 rows, the manifest says 47`);
    } finally {
      await other.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  /** Downloads a drop with section 3's script, then loads it with the DuckDB snippet. */
  async function duckdbLoad(url: string, dest: string): Promise<{ revision: number; ids: number[]; labels: (string | null)[] }> {
    const dl = await runPython(`import runpy, sys; sys.argv = ["download_drop.py"] + sys.argv[1:]; runpy.run_path("download_drop.py")`, [url, dest], {
      cwd: work,
    });
    if (dl.code !== 0) throw new Error(`download_drop.py failed on ${url}:\n${dl.stderr}`);
    const r = await runPython(
      `import json, sys, duckdb
from load_drop import load_drop
con = duckdb.connect()
manifest = load_drop(con, sys.argv[1], "orders")
rows = con.execute('SELECT id, label FROM orders ORDER BY id').fetchall()
print(json.dumps({"revision": manifest["revision"], "ids": [r[0] for r in rows], "labels": [r[1] for r in rows]}))`,
      [dest],
      { cwd: work },
    );
    if (r.code !== 0) throw new Error(`DuckDB snippet failed on ${dest}:\n${r.stderr}`);
    return JSON.parse(r.stdout.toString('utf8'));
  }

  it('DuckDB (Python) loads every part of a split drop', async () => {
    const got = await duckdbLoad(drops.split!.url, 'dd-split');
    expect(got.ids).toEqual(IDS(46));
    expect(got.labels.slice(0, 3)).toEqual(['l1', '', null]);
  });

  it('DuckDB (Python) loads a CSV-only drop, keeping an empty string apart from NULL', async () => {
    const got = await duckdbLoad(drops.csvonly!.url, 'dd-csv');
    expect(got.ids).toEqual(IDS(46));
    expect(got.labels.slice(0, 3)).toEqual(['l1', '', null]);
  });

  it('DuckDB (Python) loads the newest revision from the manifest of the data.update, where a glob over the slot reads both', async () => {
    const got = await duckdbLoad(drops.rerun2!.url, 'dd-rerun');
    expect(got).toMatchObject({ revision: 2, ids: IDS(47) });
    // What the guide warns about: both revisions sit under the slot's folder.
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const slotDir = join(p.dir, 'out', drops.rerun!.url.slice(server.url.length + 1).replace(/run=.*$/, ''));
      const [[n]] = (await c.runAndReadAll(`SELECT count(*)::INTEGER FROM read_parquet('${slotDir}*/*.parquet', hive_partitioning = false)`)).getRows();
      expect(n).toBe(46 + 47);
    } finally {
      c.closeSync();
      db.closeSync();
    }
  });
});
