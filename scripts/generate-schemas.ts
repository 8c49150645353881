import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestSchemaDocument } from '../lib/core/manifest-schema';
import { feedSchemaDocument, projectSchemaDocument } from '../lib/project/json-schemas';

/** Writes the published JSON Schemas from the zod schemas (the single source). */
const root = join(__dirname, '..', '..');
const write = (file: string, doc: Record<string, unknown>) => writeFileSync(join(root, 'schemas', file), JSON.stringify(doc, null, 2) + '\n');
write('feed.schema.json', feedSchemaDocument());
write('project.schema.json', projectSchemaDocument());
write('manifest.v1.schema.json', manifestSchemaDocument());
process.stderr.write('wrote schemas/feed.schema.json, schemas/project.schema.json and schemas/manifest.v1.schema.json\n');
