// Inputs the three RDS actions share (verify-backup, snapshot, restore), declared and parsed one way.
import { ConfigurationError } from '../../common/errors.js';
import { custom, duration, text } from '../common/inputs.js';
import { identifierProblem, isSnapshotArn } from '../../rds/identifiers.js';
import type { DbTarget } from '../../rds/source.js';
import { DEFAULT_POLL_INTERVAL_MS } from '../../rds/wait.js';

/** `db-instance-identifier`, `db-cluster-identifier` and `region`: where the database is. */
export const targetInputs = {
  instance: text('db-instance-identifier'),
  cluster: text('db-cluster-identifier'),
  /** `region`, else the AWS_REGION that aws-actions/configure-aws-credentials exports. */
  region: custom('region', (value, name) => {
    const region = value ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region)
      throw new ConfigurationError(
        `Input "${name}" is required (or set AWS_REGION, as aws-actions/configure-aws-credentials does).`,
      );
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
      throw new ConfigurationError(
        `Input "${name}" is "${region}": it must be an AWS region such as us-east-1 or eu-west-2.`,
      );
    return region;
  }),
};

/** `timeout` (default 60m) and `poll-interval` (default 5s; at least 100ms, which only makes sense against a local fake). */
export const waitInputs = {
  timeoutMs: duration('timeout', '60m', { min: 1000 }),
  pollIntervalMs: duration('poll-interval', `${DEFAULT_POLL_INTERVAL_MS / 1000}s`, { min: 100 }),
};

/** Exactly one of `db-instance-identifier` and `db-cluster-identifier`, valid by RDS's rules. */
export function resolveTarget(given: { instance?: string; cluster?: string }): DbTarget {
  const { instance, cluster } = given;
  if (instance && cluster) {
    throw new ConfigurationError(
      `Inputs "db-instance-identifier" ("${instance}") and "db-cluster-identifier" ("${cluster}") were both given; give exactly one: the RDS instance, or the Aurora cluster.`,
    );
  }
  if (instance) {
    checkIdentifier('db-instance-identifier', 'DB instance', instance);
    return { kind: 'instance', identifier: instance };
  }
  if (cluster) {
    checkIdentifier('db-cluster-identifier', 'DB cluster', cluster);
    return { kind: 'cluster', identifier: cluster };
  }
  throw new ConfigurationError(
    'Neither "db-instance-identifier" nor "db-cluster-identifier" was given; give exactly one: the RDS instance, or the Aurora cluster.',
  );
}

export function checkIdentifier(input: string, kind: Parameters<typeof identifierProblem>[0], value: string): void {
  const problem = identifierProblem(kind, value);
  if (problem) throw new ConfigurationError(`Input "${input}" is "${value}": ${problem}.`);
}

/**
 * A snapshot to read (not create): an identifier by RDS's rules, an automated one
 * (`rds:<name>`), or an ARN of a snapshot shared from another account.
 */
export function checkSnapshotReference(input: string, kind: DbTarget['kind'], value: string): void {
  if (isSnapshotArn(value)) return;
  const name = value.startsWith('rds:') ? value.slice(4) : value;
  checkIdentifier(input, kind === 'instance' ? 'DB snapshot' : 'DB cluster snapshot', name);
}
