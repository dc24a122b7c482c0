import {
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  type DBSnapshot,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { verifyBackup, type VerifyBackupOptions } from '../../src/rds/backups.js';

const now = new Date('2025-01-01T12:00:00Z');
const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);
const rds = mockClient(RDSClient);
const client = new RDSClient({ region: 'us-east-1' });

const options: VerifyBackupOptions = {
  target: { kind: 'instance', identifier: 'tickettoken-production' },
  maxAgeMs: 24 * 3_600_000,
  requirePitr: true,
  maxRestoreLagMs: 15 * 60_000,
  now,
};

function instance(fields: Record<string, unknown> = {}) {
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'tickettoken-production',
        DBInstanceStatus: 'available',
        BackupRetentionPeriod: 7,
        LatestRestorableTime: new Date(now.getTime() - 5 * 60_000),
        ...fields,
      },
    ],
  });
}

function automated(...snapshots: DBSnapshot[]) {
  rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: snapshots });
}

const snap = (id: string, status: string, hours: number, percent = 100): DBSnapshot => ({
  DBSnapshotIdentifier: id,
  DBInstanceIdentifier: 'tickettoken-production',
  Status: status,
  SnapshotCreateTime: hoursAgo(hours),
  SnapshotType: 'automated',
  PercentProgress: percent,
});

beforeEach(() => rds.reset());

describe('verifyBackup', () => {
  it('passes with a recent available automated snapshot and a current restore window', async () => {
    instance();
    automated(snap('rds:prod-old', 'available', 30), snap('rds:prod-new', 'available', 3));
    const report = await verifyBackup(client, options);
    expect(report.problems).toEqual([]);
    expect(report.snapshot?.identifier).toBe('rds:prod-new');
    expect(report.snapshotAgeSeconds).toBe(3 * 3600);
    expect(report.restoreLagSeconds).toBe(300);
    expect(rds.commandCalls(DescribeDBSnapshotsCommand)[0].args[0].input).toMatchObject({
      DBInstanceIdentifier: 'tickettoken-production',
      SnapshotType: 'automated',
    });
  });

  it('fails when there is no available automated snapshot, saying what it found', async () => {
    instance();
    automated(snap('rds:prod-a', 'failed', 2));
    const report = await verifyBackup(client, options);
    expect(report.problems[0]).toBe(
      'DB instance "tickettoken-production" has no available automated snapshot: found 1 automated snapshot(s), none available (1 failed).',
    );
  });

  it('fails when the newest is older than max-age', async () => {
    instance();
    automated(snap('rds:prod-a', 'available', 30));
    const report = await verifyBackup(client, options);
    expect(report.problems).toEqual([
      expect.stringContaining(
        '"rds:prod-a", was taken 2024-12-31T06:00:00.000Z (30h 0m ago), older than max-age 24h 0m',
      ),
    ]);
  });

  it('says so when a newer one is creating or failed', async () => {
    instance();
    automated(
      snap('rds:prod-a', 'available', 20),
      snap('rds:prod-b', 'creating', 1, 42),
      snap('rds:prod-c', 'failed', 0.5),
    );
    const report = await verifyBackup(client, options);
    expect(report.problems).toEqual([
      'Automated snapshot "rds:prod-b" of DB instance "tickettoken-production", newer than the newest available one, is still being created (42% done).',
      'Automated snapshot "rds:prod-c" of DB instance "tickettoken-production", newer than the newest available one, is "failed".',
    ]);
  });

  it('fails when retention is 0', async () => {
    instance({ BackupRetentionPeriod: 0, LatestRestorableTime: undefined });
    automated();
    const report = await verifyBackup(client, options);
    expect(report.problems[0]).toContain('backup retention period 0 days');
  });

  it('fails when the restore window lags, unless PITR is not required', async () => {
    instance({ LatestRestorableTime: hoursAgo(1) });
    automated(snap('rds:prod-a', 'available', 2));
    expect((await verifyBackup(client, options)).problems).toEqual([
      expect.stringContaining(
        'can only be restored up to 2025-01-01T11:00:00.000Z (1h 0m ago), more than max-restore-lag 15m 0s',
      ),
    ]);
    expect((await verifyBackup(client, { ...options, requirePitr: false })).problems).toEqual([]);
  });

  it('verifies one named snapshot instead', async () => {
    instance();
    rds
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-rollback-1' })
      .resolves({ DBSnapshots: [{ ...snap('pre-rollback-1', 'creating', 0.1, 60), SnapshotType: 'manual' }] });
    const report = await verifyBackup(client, { ...options, snapshotIdentifier: 'pre-rollback-1' });
    expect(report.problems).toEqual([
      'Snapshot "pre-rollback-1" of DB instance "tickettoken-production" is "creating" (60% done), not "available".',
    ]);
  });

  it('checks an Aurora cluster through its cluster snapshots', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'aurora',
          Status: 'available',
          BackupRetentionPeriod: 1,
          LatestRestorableTime: hoursAgo(0.05),
        },
      ],
    });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [
        { DBClusterSnapshotIdentifier: 'rds:aurora-1', Status: 'available', SnapshotCreateTime: hoursAgo(5) },
      ],
    });
    const report = await verifyBackup(client, { ...options, target: { kind: 'cluster', identifier: 'aurora' } });
    expect(report.problems).toEqual([]);
    expect(report.snapshot?.identifier).toBe('rds:aurora-1');
  });
});
