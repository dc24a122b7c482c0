import { ConfigurationError } from '../../common/errors.js';
import { flag, lines, text, type ParsedInputs } from '../common/inputs.js';
import { parseRestoreTime } from '../../rds/restore-window.js';
import type { RestoreFrom, RestoreSettings } from '../../rds/restore.js';
import type { DbTarget } from '../../rds/source.js';
import { parseTagLines } from '../../rds/tags.js';
import {
  checkIdentifier,
  checkSnapshotReference,
  resolveTarget,
  targetInputs,
  waitInputs,
} from '../rds-shared/inputs.js';

/** The restore action's inputs as action.yml declares them; `restoreInputs` checks how they combine. */
export const inputs = {
  ...targetInputs,
  targetIdentifier: text('target-identifier', { required: true }),
  restoreTime: text('restore-time'),
  snapshotIdentifier: text('snapshot-identifier'),
  copySettings: flag('copy-settings', true),
  instanceClass: text('db-instance-class'),
  subnetGroup: text('db-subnet-group-name'),
  securityGroupIds: lines('vpc-security-group-ids'),
  parameterGroup: text('db-parameter-group-name'),
  clusterParameterGroup: text('db-cluster-parameter-group-name'),
  multiAz: text('multi-az'),
  tags: lines('tags'),
  writerIdentifier: text('writer-instance-identifier'),
  wait: flag('wait', true),
  ...waitInputs,
};

export interface RestoreInputs {
  /** The instance or cluster restored from (its window, and its settings when copying). */
  source: DbTarget;
  /** AWS region of the source and the new instance. */
  region: string;
  /** The new instance or cluster; never the source. */
  targetIdentifier: string;
  /** A point in time (or the latest restorable time), or a snapshot. */
  from: RestoreFrom;
  /** Take class, subnet group, security groups, parameter groups, Multi-AZ and tags from the source unless given. */
  copySettings: boolean;
  /** Settings given explicitly; they win over copied ones. */
  settings: RestoreSettings;
  /** Aurora: the writer instance to create (default `<target>-instance-1`). */
  writerIdentifier?: string;
  /** Wait until the new database is available. */
  wait: boolean;
  /** How long to wait, in ms. */
  timeoutMs: number;
  /** Time between two status checks while waiting, in ms. */
  pollIntervalMs: number;
}

export function restoreInputs(given: ParsedInputs<typeof inputs>, now: Date): RestoreInputs {
  const source = resolveTarget(given);
  const kind = source.kind === 'instance' ? 'DB instance' : 'DB cluster';
  const { targetIdentifier, writerIdentifier } = given;
  checkIdentifier('target-identifier', kind, targetIdentifier);
  if (targetIdentifier.toLowerCase() === source.identifier.toLowerCase()) {
    throw new ConfigurationError(
      `Input "target-identifier" is "${targetIdentifier}", the source itself. A restore creates a new ${source.kind} beside the source; give another name, such as ${source.identifier}-recovery.`,
    );
  }
  const from = getFrom(given, source, now);
  if (writerIdentifier) checkIdentifier('writer-instance-identifier', 'DB instance', writerIdentifier);
  if (source.kind === 'cluster' && !writerIdentifier)
    checkIdentifier('target-identifier', 'DB instance', `${targetIdentifier}-instance-1`);
  const { tags, problems } = parseTagLines(given.tags);
  if (problems.length) throw new ConfigurationError(`Input "tags" breaks RDS's tag rules: ${problems.join('; ')}.`);
  const multiAz = given.multiAz === undefined ? undefined : flag('multi-az', false).parse(given.multiAz, 'multi-az');
  const securityGroups = given.securityGroupIds
    .flatMap((line) => line.split(','))
    .map((id) => id.trim())
    .filter(Boolean);
  for (const id of securityGroups) {
    if (!/^sg-[0-9a-f]{8,17}$/.test(id))
      throw new ConfigurationError(
        `Input "vpc-security-group-ids" has "${id}": each must be a security group id such as sg-0a1b2c3d.`,
      );
  }
  return {
    source,
    region: given.region,
    targetIdentifier,
    from,
    copySettings: given.copySettings,
    settings: {
      instanceClass: given.instanceClass,
      subnetGroup: given.subnetGroup,
      securityGroupIds: securityGroups.length ? securityGroups : undefined,
      parameterGroup: given.parameterGroup,
      clusterParameterGroup: given.clusterParameterGroup,
      multiAz,
      tags: tags.length ? tags : undefined,
    },
    writerIdentifier,
    wait: given.wait,
    timeoutMs: given.timeoutMs,
    pollIntervalMs: given.pollIntervalMs,
  };
}

function getFrom(
  given: { restoreTime?: string; snapshotIdentifier?: string },
  source: DbTarget,
  now: Date,
): RestoreFrom {
  const { restoreTime, snapshotIdentifier: snapshot } = given;
  if (restoreTime && snapshot) {
    throw new ConfigurationError(
      `Inputs "restore-time" ("${restoreTime}") and "snapshot-identifier" ("${snapshot}") were both given; give exactly one: a point in time, or a snapshot.`,
    );
  }
  if (!restoreTime && !snapshot) {
    throw new ConfigurationError(
      'Neither "restore-time" nor "snapshot-identifier" was given; give exactly one: a point in time (ISO-8601 UTC, or "latest"), or a snapshot.',
    );
  }
  if (snapshot) {
    checkSnapshotReference('snapshot-identifier', source.kind, snapshot);
    return { kind: 'snapshot', identifier: snapshot };
  }
  const point = parseRestoreTime(restoreTime!);
  if ('problem' in point) throw new ConfigurationError(`Input "restore-time": ${point.problem}.`);
  if (point.kind === 'time' && point.time.getTime() > now.getTime()) {
    throw new ConfigurationError(
      `Input "restore-time" is ${point.time.toISOString()}, in the future (now is ${now.toISOString()}). Give a past time, or "latest".`,
    );
  }
  return point;
}
