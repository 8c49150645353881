import * as z from 'zod';
import { feedSchema, projectSchema } from '../core/feed/feed-schema';

/** JSON Schemas of the input files (what a person writes, so defaults are optional). */
export function feedSchemaDocument(): Record<string, unknown> {
  return { $id: 'https://dropkit.dev/schemas/feed.schema.json', ...z.toJSONSchema(feedSchema, { io: 'input', unrepresentable: 'any' }) };
}

export function projectSchemaDocument(): Record<string, unknown> {
  return { $id: 'https://dropkit.dev/schemas/project.schema.json', ...z.toJSONSchema(projectSchema, { io: 'input', unrepresentable: 'any' }) };
}
