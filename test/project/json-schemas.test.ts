import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { manifestProblems, manifestSchemaDocument } from '../../lib/core/manifest-schema';
import { feedSchemaDocument, projectSchemaDocument } from '../../lib/project/json-schemas';
import { validManifest } from '../helpers/manifest-fixture';

const root = join(__dirname, '..', '..');
const read = (p: string) => JSON.parse(readFileSync(join(root, p), 'utf8'));

describe('published JSON Schemas', () => {
  it('schemas/feed.schema.json and project.schema.json match the zod schemas (run npm run schemas)', () => {
    expect(read('schemas/feed.schema.json')).toEqual(JSON.parse(JSON.stringify(feedSchemaDocument())));
    expect(read('schemas/project.schema.json')).toEqual(JSON.parse(JSON.stringify(projectSchemaDocument())));
    expect(read('schemas/manifest.v1.schema.json')).toEqual(JSON.parse(JSON.stringify(manifestSchemaDocument())));
  });

  it("the manifest schema, read by a partner's JSON Schema validator, accepts a manifest and refuses a broken one", () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    addFormats(ajv);
    const validate = ajv.compile(read('schemas/manifest.v1.schema.json'));
    const sha256 = 'a'.repeat(64);
    const manifest = validManifest([{ path: 'part-00000.csv', format: 'csv', compression: 'none', rows: 1, bytes: 10, sha256 }]);
    expect([validate(manifest), validate.errors]).toEqual([true, null]);
    const pushed = { ...manifest, delivery: { destinations: [{ name: 'inbox', kind: 'local', target: 'folder in', mode: 'full', partner: null }] } };
    expect([validate(pushed), validate.errors, manifestProblems(pushed)]).toEqual([true, null, []]);
    expect(manifestProblems({ ...pushed, delivery: { destinations: [{ name: 'inbox' }] } })).toContain(
      'delivery.destinations[0].target: required, missing (expected string)',
    );
    expect(validate({ ...manifest, sla: { ...manifest.sla, deliveredAt: '2024-01-01T00:00:00+01:00' } })).toBe(false);
    expect(validate({ ...manifest, files: [{ ...manifest.files[0], sha256: 'x' }] })).toBe(false);
    expect(validate({ ...manifest, extra: 1 })).toBe(false);
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
