import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { athenaGrammarErrors } from '../helpers/sql-grammars';

/** The statements create-tables.sh sends, as it splits them. */
function statements(): string[] {
  const text = readFileSync(join(__dirname, '../../examples/shop/aws/create-tables.sql'), 'utf8');
  return text
    .split('\n')
    .filter((l) => !l.startsWith('--'))
    .join(' ')
    .replace(/\{\{LOCATION\}\}/g, 's3://example-data/shop/')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

describe("the example's source tables script", () => {
  it('sends DDL Athena parses as Hive and a CTAS it parses as Trino, creating every table the example reads', () => {
    const all = statements();
    const grammars = all.map((sql) => ({ sql: sql.slice(0, 60), ...athenaGrammarErrors(sql) }));
    for (const g of grammars) expect(g).toEqual({ sql: g.sql, grammar: g.grammar, errors: [] });
    expect(grammars.map((g) => g.grammar)).toEqual(['hive', 'hive', 'hive', 'hive', 'hive', 'trino', 'trino']);
    const made = all.map((s) => /^CREATE (?:EXTERNAL )?TABLE (?:IF NOT EXISTS )?[`"](\w+)[`"]\.[`"](\w+)[`"]/.exec(s)?.slice(1).join('.')).filter(Boolean);
    expect(made).toEqual(expect.arrayContaining(['shop.orders', 'shop.returns', 'shop_raw.customers']));
  });
});
