import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Generates the example shop's source data with DuckDB: no downloads, and the same rows for the
 * same anchor day. Rows are spread over the 35 days before the anchor (today, UTC, by default), so
 * the latest due slot of every example feed has data. Values are pure functions of the row number.
 */
/** Bump when the generated data changes, so data made by an older generator is made again. */
const GENERATOR_VERSION = 2;

export async function generateShopData(projectDir: string, anchorDay: string): Promise<string> {
  const dataDir = join(projectDir, 'data');
  const stamp = join(dataDir, '.anchor');
  const stampText = `${GENERATOR_VERSION} ${anchorDay}`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === stampText) return dataDir;
  mkdirSync(dataDir, { recursive: true });
  const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const c = await db.connect();
  await c.run(`SET TimeZone = 'UTC'`);
  const anchor = `TIMESTAMPTZ '${anchorDay} 00:00:00+00' + INTERVAL 1 DAY`;
  const q = (path: string) => `'${join(dataDir, path).replace(/'/g, "''")}'`;
  // 600 orders a day over 35 days; every 7th has a note with the characters CSV writers get wrong.
  await c.run(`
    COPY (
      SELECT
        i + 1 AS order_id,
        ['acme', 'globex', 'initech'][(i % 3) + 1] AS partner_id,
        (i * 7919) % 1000 + 1 AS customer_id,
        ${anchor} - to_seconds(i * 144 + (i * 37) % 60) AS ordered_at,
        (((i * 104729) % 100000) / 100)::DECIMAL(12, 2) AS amount,
        ['EUR', 'USD', 'GBP'][(i % 5) % 3 + 1] AS currency,
        ['paid', 'shipped', 'delivered', 'cancelled'][(i % 11) % 4 + 1] AS status,
        CASE WHEN i % 7 = 0 THEN ['leave at door, "back" porch', 'gift; wrap it', E'two\\nlines', 'café ☕ 東京', ''][(i // 7) % 5 + 1] END AS note
      FROM range(21000) t(i)
    ) TO ${q('orders.parquet')} (FORMAT parquet)`);
  await c.run(`
    COPY (
      SELECT
        i + 1 AS customer_id,
        ['Ada', 'Bjørn', 'Chloé', 'Dmitri', 'Eşref', '美咲'][(i % 6) + 1] || ' ' || ['Lovelace', 'O''Brien', 'Nguyễn', 'Smith, Jr.', 'Müller'][(i % 5) + 1] AS name,
        ['NL', 'US', 'DE', 'JP', 'GB'][(i % 5) + 1] AS country,
        DATE '2020-01-01' + (i * 3)::INTEGER AS signup_date,
        i % 10 = 0 AS vip,
        ${anchor} - to_seconds(i * 2400) AS updated_at
      FROM range(1000) t(i)
    ) TO ${q('customers.csv')} (HEADER, DELIMITER ',')`);
  // Returns: every 13th order; some reasons missing, which the returns feed's warn check reports.
  await c.run(`
    COPY (
      SELECT
        i + 1 AS return_id,
        i * 13 + 1 AS order_id,
        ${anchor} - to_seconds(i * 1872) AS returned_at,
        CASE WHEN i % 9 = 4 THEN NULL ELSE ['damaged', 'wrong size', 'late', 'changed mind'][(i % 4) + 1] END AS reason
      FROM range(1600) t(i)
    ) TO ${q('returns.parquet')} (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
  writeFileSync(stamp, stampText);
  return dataDir;
}

if (require.main === module) {
  const project = resolve(process.argv[2] ?? join(__dirname, '..', '..', 'examples', 'shop'));
  const anchorDay = process.argv[3] ?? new Date().toISOString().slice(0, 10);
  generateShopData(project, anchorDay).then(
    (dir) => process.stderr.write(`example data for ${anchorDay} in ${dir}\n`),
    (error) => {
      process.stderr.write(`could not generate example data: ${error instanceof Error ? error.message : error}\n`);
      process.exitCode = 1;
    },
  );
}
