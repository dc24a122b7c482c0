// restore's work: check the restore point against the source's window, copy the source's
// settings, create the new instance (or the Aurora cluster and its writer instance, since
// restoring a cluster creates no instance), and wait until it can take connections (restore-wait.ts).
import {
  CreateDBInstanceCommand,
  DescribeDBInstancesCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBClusterToPointInTimeCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import { ConfigurationError } from '../common/errors.js';
import {
  describeSource,
  describeTarget,
  requireStandalone,
  findExisting,
  type DbTarget,
  type SourceInfo,
} from './source.js';
import { findSnapshot, type SnapshotInfo } from './snapshots.js';
import {
  describeWindow,
  restoreTimeProblem,
  restoreWindow,
  type RestorePoint,
  type RestoreWindow,
} from './restore-window.js';
import type { Logger } from '../common/logger.js';
import { currentState, waitUntilAvailable } from './restore-wait.js';
import { copyableTags, mergeTags, RUN_TAG, tagValue } from './tags.js';
import type { Clock } from '../common/clock.js';
import type { PollSchedule } from '../common/retry.js';

/** Settings for the new instance; unset fields come from the source when copying settings. */
export interface RestoreSettings {
  instanceClass?: string;
  subnetGroup?: string;
  securityGroupIds?: string[];
  /** Instance parameter group (for Aurora: the writer instance's). */
  parameterGroup?: string;
  /** Aurora only: the cluster parameter group. */
  clusterParameterGroup?: string;
  /** RDS instances only; Aurora spreads storage across zones by itself. */
  multiAz?: boolean;
  tags?: Tag[];
}

export type RestoreFrom = RestorePoint | { kind: 'snapshot'; identifier: string };

export interface RestoreRequest {
  source: DbTarget;
  targetIdentifier: string;
  from: RestoreFrom;
  copySettings: boolean;
  /** Given by the user; they win over copied settings. */
  settings: RestoreSettings;
  /** Tags always added (repository, run URL, actor...). */
  runTags: Tag[];
  runUrl: string;
  /** Aurora: the writer instance to create (default `<target>-instance-1`). */
  writerIdentifier?: string;
  wait: boolean;
  schedule: PollSchedule;
  clock?: Clock;
  now: Date;
  log: Logger;
  region?: string;
}

export interface RestoreResult {
  source: SourceInfo;
  target: DbTarget;
  writerIdentifier?: string;
  window?: RestoreWindow;
  snapshot?: SnapshotInfo;
  settings: RestoreSettings;
  status: string;
  endpointAddress?: string;
  endpointPort?: number;
  reused: boolean;
  waitedMs: number;
}

export function defaultWriterIdentifier(targetIdentifier: string): string {
  return `${targetIdentifier}-instance-1`;
}

/** The snapshot exists and is available, or the point in time lies in the restorable window. */
async function checkRestorePoint(
  client: RDSClient,
  request: RestoreRequest,
  source: SourceInfo,
): Promise<{ window?: RestoreWindow; snapshot?: SnapshotInfo }> {
  const isCluster = request.source.kind === 'cluster';
  if (request.from.kind === 'snapshot') {
    const snapshot = await findSnapshot(client, request.source.kind, request.from.identifier);
    if (!snapshot)
      throw new ConfigurationError(
        `${isCluster ? 'DB cluster snapshot' : 'DB snapshot'} "${request.from.identifier}" was not found. Nothing was changed.`,
      );
    if (snapshot.status !== 'available') {
      throw new ConfigurationError(
        `Snapshot "${snapshot.identifier}" is "${snapshot.status}"; only an available snapshot can be restored. Nothing was changed.`,
      );
    }
    return { snapshot };
  }
  const window = await restoreWindow(client, source);
  if (request.from.kind === 'time') {
    const problem = restoreTimeProblem(request.from.time, window, request.now);
    if (problem)
      throw new ConfigurationError(`Cannot restore ${describeTarget(request.source)}: ${problem} Nothing was changed.`);
  } else if (!window.latest) {
    throw new ConfigurationError(
      `Cannot restore ${describeTarget(request.source)} to its latest restorable time: it has none (automated backups off?). Nothing was changed.`,
    );
  }
  return { window };
}

export async function restoreDatabase(client: RDSClient, request: RestoreRequest): Promise<RestoreResult> {
  const { log } = request;
  if (request.source.identifier.toLowerCase() === request.targetIdentifier.toLowerCase()) {
    throw new ConfigurationError(
      `target-identifier "${request.targetIdentifier}" is the source itself; a restore always creates a new ${request.source.kind}. Nothing was changed.`,
    );
  }
  const isCluster = request.source.kind === 'cluster';
  const target: DbTarget = { kind: request.source.kind, identifier: request.targetIdentifier };
  const writerIdentifier = isCluster
    ? (request.writerIdentifier ?? defaultWriterIdentifier(request.targetIdentifier))
    : undefined;
  const source = await describeSource(client, request.source, request.region);
  requireStandalone(source);

  // Everything is checked before the first write, so a bad restore point changes nothing.
  const { window, snapshot } = await checkRestorePoint(client, request, source);

  const settings = await resolveSettings(client, source, request);
  if (isCluster && !settings.instanceClass) {
    throw new ConfigurationError(
      'Input "db-instance-class" is required for an Aurora restore when copy-settings is false: the writer instance needs a class. Nothing was changed.',
    );
  }

  const existing = await findExisting(client, target);
  let reused = false;
  if (existing) {
    if (tagValue(existing.instance?.TagList ?? existing.cluster?.TagList, RUN_TAG) !== request.runUrl) {
      throw new ConfigurationError(
        `${describeTarget(target)} already exists and was not created by this workflow run. Choose another target-identifier. Nothing was changed.`,
      );
    }
    reused = true;
    log.info(
      `${describeTarget(target)} was created by an earlier attempt of this workflow run (${existing.status}); reusing it.`,
    );
  } else {
    await startRestore(client, request, settings, snapshot);
    log.info(`Requested the restore of ${describeTarget(target)} from ${describeFrom(request.from)}.`);
  }
  if (isCluster && writerIdentifier && !(await instanceExists(client, writerIdentifier))) {
    // RDS accepts the writer while the cluster is still being created and starts it once the cluster is ready.
    await client.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: writerIdentifier,
        DBClusterIdentifier: request.targetIdentifier,
        Engine: snapshot?.engine ?? source.engine,
        DBInstanceClass: settings.instanceClass,
        DBParameterGroupName: settings.parameterGroup,
        Tags: settings.tags,
      }),
    );
    log.info(
      `Requested writer instance "${writerIdentifier}" (${settings.instanceClass}) in cluster "${request.targetIdentifier}".`,
    );
  }

  const result: RestoreResult = {
    source,
    target,
    writerIdentifier,
    window,
    snapshot,
    settings,
    status: 'creating',
    reused,
    waitedMs: 0,
  };
  if (!request.wait) {
    const now = await currentState(client, target, writerIdentifier);
    return { ...result, ...now };
  }
  const outcome = await waitUntilAvailable(client, request, target, writerIdentifier, reused);
  return { ...result, ...outcome.value, waitedMs: outcome.waitedMs };
}

async function instanceExists(client: RDSClient, identifier: string): Promise<boolean> {
  try {
    const reply = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
    return (reply.DBInstances?.length ?? 0) > 0;
  } catch (error) {
    if (/NotFound/.test((error as Error).name ?? '')) return false;
    throw error;
  }
}

async function resolveSettings(
  client: RDSClient,
  source: SourceInfo,
  request: RestoreRequest,
): Promise<RestoreSettings> {
  const given = request.settings;
  const ours = mergeTags(given.tags, request.runTags);
  if (!request.copySettings) return { ...given, tags: ours };
  if (source.instance) {
    const instance = source.instance;
    return {
      instanceClass: given.instanceClass ?? instance.DBInstanceClass,
      subnetGroup: given.subnetGroup ?? instance.DBSubnetGroup?.DBSubnetGroupName,
      securityGroupIds:
        given.securityGroupIds ?? instance.VpcSecurityGroups?.map((group) => group.VpcSecurityGroupId!).filter(Boolean),
      parameterGroup: given.parameterGroup ?? instance.DBParameterGroups?.[0]?.DBParameterGroupName,
      multiAz: given.multiAz ?? instance.MultiAZ,
      tags: mergeTags(copyableTags(instance.TagList), given.tags, request.runTags),
    };
  }
  const cluster = source.cluster!;
  const writerId = cluster.DBClusterMembers?.find((member) => member.IsClusterWriter)?.DBInstanceIdentifier;
  const writer = writerId
    ? (await findExisting(client, { kind: 'instance', identifier: writerId }))?.instance
    : undefined;
  return {
    instanceClass: given.instanceClass ?? writer?.DBInstanceClass,
    subnetGroup: given.subnetGroup ?? cluster.DBSubnetGroup,
    securityGroupIds:
      given.securityGroupIds ?? cluster.VpcSecurityGroups?.map((group) => group.VpcSecurityGroupId!).filter(Boolean),
    parameterGroup: given.parameterGroup ?? writer?.DBParameterGroups?.[0]?.DBParameterGroupName,
    clusterParameterGroup: given.clusterParameterGroup ?? cluster.DBClusterParameterGroup,
    tags: mergeTags(copyableTags(cluster.TagList), given.tags, request.runTags),
  };
}

async function startRestore(
  client: RDSClient,
  request: RestoreRequest,
  settings: RestoreSettings,
  snapshot: SnapshotInfo | undefined,
): Promise<void> {
  const from = request.from;
  const restoreTime = from.kind === 'time' ? from.time : undefined;
  const useLatest = from.kind === 'latest' ? true : undefined;
  if (request.source.kind === 'instance') {
    const common = {
      DBInstanceClass: settings.instanceClass,
      DBSubnetGroupName: settings.subnetGroup,
      VpcSecurityGroupIds: settings.securityGroupIds?.length ? settings.securityGroupIds : undefined,
      DBParameterGroupName: settings.parameterGroup,
      MultiAZ: settings.multiAz,
      Tags: settings.tags,
    };
    if (from.kind === 'snapshot') {
      await client.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: request.targetIdentifier,
          DBSnapshotIdentifier: from.identifier,
          ...common,
        }),
      );
    } else {
      await client.send(
        new RestoreDBInstanceToPointInTimeCommand({
          SourceDBInstanceIdentifier: request.source.identifier,
          TargetDBInstanceIdentifier: request.targetIdentifier,
          RestoreTime: restoreTime,
          UseLatestRestorableTime: useLatest,
          ...common,
        }),
      );
    }
    return;
  }
  const common = {
    DBClusterIdentifier: request.targetIdentifier,
    DBSubnetGroupName: settings.subnetGroup,
    VpcSecurityGroupIds: settings.securityGroupIds?.length ? settings.securityGroupIds : undefined,
    DBClusterParameterGroupName: settings.clusterParameterGroup,
    Tags: settings.tags,
  };
  if (from.kind === 'snapshot') {
    await client.send(
      new RestoreDBClusterFromSnapshotCommand({
        SnapshotIdentifier: from.identifier,
        Engine: snapshot?.engine,
        EngineVersion: snapshot?.engineVersion,
        ...common,
      }),
    );
  } else {
    await client.send(
      new RestoreDBClusterToPointInTimeCommand({
        SourceDBClusterIdentifier: request.source.identifier,
        RestoreToTime: restoreTime,
        UseLatestRestorableTime: useLatest,
        ...common,
      }),
    );
  }
}

export function describeFrom(from: RestoreFrom): string {
  if (from.kind === 'snapshot') return `snapshot "${from.identifier}"`;
  if (from.kind === 'latest') return 'the latest restorable time';
  return `the point in time ${from.time.toISOString()}`;
}

export { describeWindow };
