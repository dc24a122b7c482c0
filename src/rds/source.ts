import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  type DBCluster,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { ConfigurationError } from '../common/errors.js';
import { isNotFound } from './client.js';

/** What the actions act on: one RDS instance or one Aurora cluster. */
export type DbTarget = { kind: 'instance'; identifier: string } | { kind: 'cluster'; identifier: string };

export function describeTarget(target: DbTarget): string {
  return `${target.kind === 'instance' ? 'DB instance' : 'DB cluster'} "${target.identifier}"`;
}

/** The fields the actions use, the same for an instance and a cluster. */
export interface SourceInfo {
  target: DbTarget;
  status: string;
  arn?: string;
  engine?: string;
  engineVersion?: string;
  backupRetentionDays: number;
  latestRestorableTime?: Date;
  /** Clusters only: a DBInstance has no earliest restorable time (see restore-window.ts). */
  earliestRestorableTime?: Date;
  /** Instances only: ties the instance to its automated backups. */
  dbiResourceId?: string;
  instance?: DBInstance;
  cluster?: DBCluster;
}

/** Describes the instance or cluster; a missing one is the user's to fix (a typo, the wrong region). */
export async function describeSource(client: RDSClient, target: DbTarget, region?: string): Promise<SourceInfo> {
  const where = region ? ` in region ${region}` : '';
  try {
    if (target.kind === 'instance') {
      const reply = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: target.identifier }));
      const instance = reply.DBInstances?.[0];
      if (!instance) throw new ConfigurationError(`${describeTarget(target)} was not found${where}.`);
      return {
        target,
        status: instance.DBInstanceStatus ?? 'unknown',
        arn: instance.DBInstanceArn,
        engine: instance.Engine,
        engineVersion: instance.EngineVersion,
        backupRetentionDays: instance.BackupRetentionPeriod ?? 0,
        latestRestorableTime: instance.LatestRestorableTime,
        dbiResourceId: instance.DbiResourceId,
        instance,
      };
    }
    const reply = await client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: target.identifier }));
    const cluster = reply.DBClusters?.[0];
    if (!cluster) throw new ConfigurationError(`${describeTarget(target)} was not found${where}.`);
    return {
      target,
      status: cluster.Status ?? 'unknown',
      arn: cluster.DBClusterArn,
      engine: cluster.Engine,
      engineVersion: cluster.EngineVersion,
      backupRetentionDays: cluster.BackupRetentionPeriod ?? 0,
      latestRestorableTime: cluster.LatestRestorableTime,
      earliestRestorableTime: cluster.EarliestRestorableTime,
      cluster,
    };
  } catch (error) {
    if (isNotFound(error)) {
      throw new ConfigurationError(
        `${describeTarget(target)} was not found${where}. Check the identifier and the region (and, for Aurora, use db-cluster-identifier rather than db-instance-identifier).`,
      );
    }
    throw error;
  }
}

/** Describes an instance or cluster that may not exist yet (a restore target). */
export async function findExisting(client: RDSClient, target: DbTarget): Promise<SourceInfo | undefined> {
  try {
    return await describeSource(client, target);
  } catch (error) {
    if (error instanceof ConfigurationError) return undefined;
    throw error;
  }
}

/**
 * An instance that belongs to an Aurora cluster has no backups or snapshots of its own: RDS
 * snapshots and restores the cluster. Say so instead of failing on an AWS error later.
 */
export function requireStandalone(source: SourceInfo): void {
  const cluster = source.instance?.DBClusterIdentifier;
  if (cluster) {
    throw new ConfigurationError(
      `${describeTarget(source.target)} is an instance of Aurora cluster "${cluster}": backups, snapshots and restores are the cluster's. Use db-cluster-identifier: ${cluster}.`,
    );
  }
}
