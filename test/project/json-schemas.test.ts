import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { feedSchemaDocument, projectSchemaDocument } from '../../lib/project/json-schemas';

const root = join(__dirname, '..', '..');
const read = (p: string) => JSON.parse(readFileSync(join(root, p), 'utf8'));

describe('published JSON Schemas', () => {
  it('schemas/feed.schema.json and project.schema.json match the zod schemas (run npm run schemas)', () => {
    expect(read('schemas/feed.schema.json')).toEqual(JSON.parse(JSON.stringify(feedSchemaDocument())));
    expect(read('schemas/project.schema.json')).toEqual(JSON.parse(JSON.stringify(projectSchemaDocument())));
  });

  it('accepts every shipped example feed and rejects a misspelt field', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const validate = ajv.compile(read('schemas/feed.schema.json'));
    for (const f of ['daily_orders', 'partner_statements', 'weekly_customers', 'daily_returns']) {
      const feed = parse(readFileSync(join(root, 'examples/shop/feeds', `${f}.yaml`), 'utf8'));
      expect([f, validate(feed), validate.errors]).toEqual([f, true, null]);
    }
    const bad = parse(readFileSync(join(root, 'examples/shop/feeds/daily_orders.yaml'), 'utf8'));
    bad.schedul = bad.schedule;
    expect(validate(bad)).toBe(false);
  });
});
