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
 * Destinations the deployed push cannot serve, each named with the fix: a local folder (no
 * deployed form), SFTP without a Transfer Family connector (a Lambda holds no SSH key of the
 * user's), an API whose token is only in an environment variable. `cdk synth` refuses them;
 * `dropkit check` warns of them.
 */
export function undeployableDestinations(feeds: readonly FeedDefinition[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const feed of feeds)
    for (const { path, spec } of destinationsOf(feed)) {
      const at = { file: feed.file, path: `${path}` };
      if (spec.type === 'local')
        problems.push({
          ...at,
          path: `${path}.type`,
          message: `destination ${spec.name} is a local folder (${spec.path}), which the deployed pipeline has no way to reach`,
          value: 'local',
          fix: 'keep local destinations in a development project, or send to the partner with type: s3, sftp (with connectorId) or api',
        });
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
