import { ConfigError } from '../errors';
import type { DestinationSpec, FeedFile } from '../feed/feed-schema';
import type { Destination } from '../ports/destination';
import type { DestinationPlan } from './deliver';

/** The destinations of one drop: the feed's, then the partner's own (a shared drop has no partner: the feed's only). */
export function destinationSpecs(feed: Pick<FeedFile, 'destinations' | 'partners'>, partner: string | null): DestinationSpec[] {
  const own = partner ? (feed.partners.find((p) => p.id === partner)?.destinations ?? []) : [];
  return [...feed.destinations, ...own];
}

/** How an edge (CLI, Lambda) turns a spec into an adapter; secrets are read there, never from the file. */
export type DestinationBuilder = (spec: DestinationSpec) => Destination;

export function destinationPlans(specs: readonly DestinationSpec[], build: DestinationBuilder): DestinationPlan[] {
  return specs.map((spec) => ({
    destination: build(spec),
    mode: spec.sync,
    ...(spec.primaryKey ? { primaryKey: spec.primaryKey } : {}),
    takes: spec.type === 'api' ? 'rows' : 'files',
  }));
}

/** Reads a secret named by the feed file; a missing one is a configuration problem that names the field and the fix. */
export function secretFromEnv(env: Readonly<Record<string, string | undefined>>, name: string, where: { file: string; path: string }): string {
  const value = env[name];
  if (value === undefined || value === '')
    throw new ConfigError([
      {
        file: where.file,
        path: where.path,
        message: `environment variable ${name} is not set`,
        value: name,
        fix: `export ${name}=... (the secret itself stays out of the feed file)`,
      },
    ]);
  return value;
}
