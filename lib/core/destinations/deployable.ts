import type { ConfigProblem } from '../errors';
import type { FeedDefinition } from '../feed/feed-definition';
import type { DestinationSpec } from '../feed/feed-schema';

/** Every destination of a feed (the feed's and each partner's), with where it is in the feed file. */
export function destinationsOf(feed: FeedDefinition): { path: string; spec: DestinationSpec }[] {
  return [
    ...feed.spec.destinations.map((spec, i) => ({ path: `destinations[${i}]`, spec })),
    ...feed.spec.partners.flatMap((p, j) => (p.destinations ?? []).map((spec, i) => ({ path: `partners[${j}].destinations[${i}]`, spec }))),
  ];
}

/**
 * A feed as deployed: its local-folder destinations left out. A folder on the machine that runs
 * dropkit has no deployed form; it is for development (the example pushes to one), so `cdk synth`
 * leaves it out (with a warning naming it) rather than refusing the project, and everything
 * deployed — the manifest's delivery section, the push, the SLA, the report — sees the same list.
 */
export function deployedFeed(feed: FeedDefinition): { feed: FeedDefinition; leftOut: string[] } {
  const leftOut = destinationsOf(feed)
    .filter((d) => d.spec.type === 'local')
    .map((d) => d.path);
  if (leftOut.length === 0) return { feed, leftOut };
  const keep = <T extends { type: string }>(list: readonly T[] | undefined) => list?.filter((d) => d.type !== 'local');
  const spec = {
    ...feed.spec,
    destinations: keep(feed.spec.destinations) ?? [],
    partners: feed.spec.partners.map((p) => (p.destinations ? { ...p, destinations: keep(p.destinations) } : p)),
  };
  return { feed: { ...feed, spec } as FeedDefinition, leftOut };
}

/**
 * Destinations the deployed push cannot serve, each named with the fix: SFTP without a Transfer Family connector (a Lambda holds no SSH key of the
 * user's), an API whose token is only in an environment variable. `cdk synth` refuses them;
 * `dropkit check` warns of them.
 */
export function undeployableDestinations(feeds: readonly FeedDefinition[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const feed of feeds)
    for (const { path, spec } of destinationsOf(feed)) {
      const at = { file: feed.file, path: `${path}` };
      if (spec.type === 'sftp' && !spec.connectorId)
        problems.push({
          ...at,
          path: `${path}.connectorId`,
          message: `destination ${spec.name} sends to ${spec.host} over SFTP, which the deployed pipeline does only through an AWS Transfer Family SFTP connector`,
          fix: `create an SFTP connector for sftp://${spec.host}:${spec.port} (aws transfer create-connector --url sftp://${spec.host} --sftp-config … --access-role …) and add connectorId: c-… to the destination`,
        });
      if (spec.type === 'api' && !spec.secret)
        problems.push({
          ...at,
          path: `${path}.secret`,
          message: `destination ${spec.name} names only the environment variable ${spec.tokenEnv} for its token, which the deployed functions do not have`,
          value: spec.tokenEnv,
          fix: `store the token in Secrets Manager (aws secretsmanager create-secret --name dropkit/destinations/${spec.name} --secret-string …) and add secret: { name: dropkit/destinations/${spec.name} } beside tokenEnv`,
        });
    }
  return problems;
}
