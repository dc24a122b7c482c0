import { ConfigurationError } from '../../common/errors.js';
import { getBoolean, getLines, getRequired, getString } from '../common/inputs.js';
import { parseRestoreTime } from '../../rds/restore-window.js';
import type { RestoreFrom, RestoreSettings } from '../../rds/restore.js';
import type { DbTarget } from '../../rds/source.js';
import { parseTagLines } from '../../rds/tags.js';
import {
  checkIdentifier,
  checkSnapshotReference,
  getPollInterval,
  getRegion,
  getTarget,
  getTimeout,
} from '../rds-shared/inputs.js';

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

export function getInputs(now: Date): RestoreInputs {
  const source = getTarget();
  const kind = source.kind === 'instance' ? 'DB instance' : 'DB cluster';
  const targetIdentifier = getRequired('target-identifier');
  checkIdentifier('target-identifier', kind, targetIdentifier);
  if (targetIdentifier.toLowerCase() === source.identifier.toLowerCase()) {
    throw new ConfigurationError(
      `Input "target-identifier" is "${targetIdentifier}", the source itself. A restore creates a new ${source.kind} beside the source; give another name, such as ${source.identifier}-recovery.`,
    );
  }
  const from = getFrom(source, now);
  const writerIdentifier = getString('writer-instance-identifier');
  if (writerIdentifier) checkIdentifier('writer-instance-identifier', 'DB instance', writerIdentifier);
  if (source.kind === 'cluster' && !writerIdentifier)
    checkIdentifier('target-identifier', 'DB instance', `${targetIdentifier}-instance-1`);
  const { tags, problems } = parseTagLines(getLines('tags'));
  if (problems.length) throw new ConfigurationError(`Input "tags" breaks RDS's tag rules: ${problems.join('; ')}.`);
  const multiAz = getString('multi-az') === undefined ? undefined : getBoolean('multi-az', false);
  const securityGroups = getLines('vpc-security-group-ids')
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
    region: getRegion(),
    targetIdentifier,
    from,
    copySettings: getBoolean('copy-settings', true),
    settings: {
      instanceClass: getString('db-instance-class'),
      subnetGroup: getString('db-subnet-group-name'),
      securityGroupIds: securityGroups.length ? securityGroups : undefined,
      parameterGroup: getString('db-parameter-group-name'),
      clusterParameterGroup: getString('db-cluster-parameter-group-name'),
      multiAz,
      tags: tags.length ? tags : undefined,
    },
    writerIdentifier,
    wait: getBoolean('wait', true),
    timeoutMs: getTimeout(),
    pollIntervalMs: getPollInterval(),
  };
}

function getFrom(source: DbTarget, now: Date): RestoreFrom {
  const restoreTime = getString('restore-time');
  const snapshot = getString('snapshot-identifier');
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
