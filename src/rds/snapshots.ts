import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  DescribeEventsCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  type DBClusterSnapshot,
  type DBSnapshot,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import { isNotFound } from './client.js';
import type { DbTarget } from './source.js';

/** A DB snapshot or a DB cluster snapshot, in the fields the actions use. */
export interface SnapshotInfo {
  identifier: string;
  arn?: string;
  status: string;
  type?: string;
  createTime?: Date;
  percentProgress?: number;
  sourceIdentifier?: string;
  engine?: string;
  engineVersion?: string;
  tags: Tag[];
}

export function fromDbSnapshot(snapshot: DBSnapshot): SnapshotInfo {
  return {
    identifier: snapshot.DBSnapshotIdentifier ?? '',
    arn: snapshot.DBSnapshotArn,
    status: snapshot.Status ?? 'unknown',
    type: snapshot.SnapshotType,
    createTime: snapshot.SnapshotCreateTime,
    percentProgress: snapshot.PercentProgress,
    sourceIdentifier: snapshot.DBInstanceIdentifier,
    engine: snapshot.Engine,
    engineVersion: snapshot.EngineVersion,
    tags: snapshot.TagList ?? [],
  };
}

export function fromClusterSnapshot(snapshot: DBClusterSnapshot): SnapshotInfo {
  return {
    identifier: snapshot.DBClusterSnapshotIdentifier ?? '',
    arn: snapshot.DBClusterSnapshotArn,
    status: snapshot.Status ?? 'unknown',
    type: snapshot.SnapshotType,
    createTime: snapshot.SnapshotCreateTime,
    percentProgress: snapshot.PercentProgress,
    sourceIdentifier: snapshot.DBClusterIdentifier,
    engine: snapshot.Engine,
    engineVersion: snapshot.EngineVersion,
    tags: snapshot.TagList ?? [],
  };
}

/** Every snapshot of the source of one type, across all pages (the SDK paginator follows Marker). */
export async function listSnapshots(
  client: RDSClient,
  target: DbTarget,
  snapshotType: 'automated' | 'manual',
  pageSize = 100,
): Promise<SnapshotInfo[]> {
  const result: SnapshotInfo[] = [];
  if (target.kind === 'instance') {
    const pages = paginateDescribeDBSnapshots(
      { client, pageSize },
      { DBInstanceIdentifier: target.identifier, SnapshotType: snapshotType },
    );
    for await (const page of pages)
      for (const snapshot of page.DBSnapshots ?? []) result.push(fromDbSnapshot(snapshot));
  } else {
    const pages = paginateDescribeDBClusterSnapshots(
      { client, pageSize },
      { DBClusterIdentifier: target.identifier, SnapshotType: snapshotType },
    );
    for await (const page of pages)
      for (const snapshot of page.DBClusterSnapshots ?? []) result.push(fromClusterSnapshot(snapshot));
  }
  return result;
}

/** One snapshot by identifier, or undefined when RDS says it does not exist. */
export async function findSnapshot(
  client: RDSClient,
  kind: DbTarget['kind'],
  identifier: string,
): Promise<SnapshotInfo | undefined> {
  try {
    if (kind === 'instance') {
      const reply = await client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: identifier }));
      const snapshot = reply.DBSnapshots?.[0];
      return snapshot ? fromDbSnapshot(snapshot) : undefined;
    }
    const reply = await client.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: identifier }));
    const snapshot = reply.DBClusterSnapshots?.[0];
    return snapshot ? fromClusterSnapshot(snapshot) : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * What RDS said recently about a resource (DescribeEvents): the only place the reason for a
 * failed snapshot or restore is given. Best effort: an error here must not hide the failure.
 */
export async function recentEvents(
  client: RDSClient,
  sourceType: 'db-instance' | 'db-cluster' | 'db-snapshot' | 'db-cluster-snapshot',
  identifier: string,
): Promise<string[]> {
  try {
    const reply = await client.send(
      new DescribeEventsCommand({ SourceType: sourceType, SourceIdentifier: identifier, Duration: 24 * 60 }),
    );
    return (reply.Events ?? []).map((event) => `${event.Date?.toISOString() ?? ''} ${event.Message ?? ''}`.trim());
  } catch {
    return [];
  }
}
