import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { feedSchemaDocument, projectSchemaDocument } from '../lib/project/json-schemas';
import { MANIFEST_VALIDATOR_FILE, manifestValidatorCode } from './manifest-validator';

/** Writes the editor schemas of feed and project files from the zod schemas (the single source). */
const root = join(__dirname, '..', '..');
writeFileSync(join(root, 'schemas', 'feed.schema.json'), JSON.stringify(feedSchemaDocument(), null, 2) + '\n');
writeFileSync(join(root, 'schemas', 'project.schema.json'), JSON.stringify(projectSchemaDocument(), null, 2) + '\n');
writeFileSync(join(root, MANIFEST_VALIDATOR_FILE), manifestValidatorCode());
process.stderr.write(`wrote schemas/feed.schema.json, schemas/project.schema.json and ${MANIFEST_VALIDATOR_FILE}\n`);
