import { silentLogger } from '../../src/common/logger.js';
import {
  CreateDBSnapshotCommand,
  DBSnapshotAlreadyExistsFault,
  DBSnapshotNotFoundFault,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DescribeEventsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { takeSnapshot, type SnapshotRequest } from '../../src/rds/snapshot.js';
import { manualClock } from '../helpers/manual-clock.js';

const rds = mockClient(RDSClient);
const client = new RDSClient({ region: 'us-east-1' });
const runUrl = 'https://github.com/o/r/actions/runs/7';
const logs: string[] = [];

function request(fields: Partial<SnapshotRequest> = {}): SnapshotRequest {
  return {
    target: { kind: 'instance', identifier: 'prod' },
    snapshotIdentifier: 'pre-rollback-20250101-100000',
    tags: [{ Key: 'db-rollback:run', Value: runUrl }],
    runUrl,
    wait: true,
    schedule: { intervalMs: 5000, timeoutMs: 3_600_000 },
    clock: manualClock(),
    log: { ...silentLogger, info: (m) => logs.push(m), warning: (m) => logs.push(m) },
    ...fields,
  };
}

const available = () =>
  rds
    .on(DescribeDBInstancesCommand)
    .resolves({ DBInstances: [{ DBInstanceIdentifier: 'prod', DBInstanceStatus: 'available' }] });
const snapshot = (status: string, percent: number, tags = [{ Key: 'db-rollback:run', Value: runUrl }]) => ({
  DBSnapshotIdentifier: 'pre-rollback-20250101-100000',
  DBSnapshotArn: 'arn:aws:rds:us-east-1:123456789012:snapshot:pre-rollback-20250101-100000',
  Status: status,
  PercentProgress: percent,
  TagList: tags,
});

beforeEach(() => {
  rds.reset();
  logs.length = 0;
});

describe('takeSnapshot', () => {
  it('reports an instance that is not available before any snapshot is attempted', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ DBInstanceIdentifier: 'prod', DBInstanceStatus: 'modifying' }] });
    await expect(takeSnapshot(client, request())).rejects.toThrow('DB instance "prod" is "modifying", not "available"');
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  });

  it('creates, logs progress and returns when available', async () => {
    available();
    rds.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({ DBSnapshots: [] });
    rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: snapshot('creating', 0) });
    rds
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-rollback-20250101-100000' })
      .resolvesOnce({ DBSnapshots: [snapshot('creating', 40)] })
      .resolves({ DBSnapshots: [snapshot('available', 100)] });
    const result = await takeSnapshot(client, request());
    expect(result).toMatchObject({ reused: false, waitedMs: 10_000, polls: 2, snapshot: { status: 'available' } });
    expect(logs).toContain('pre-rollback-20250101-100000: creating (40%) after 5s');
    expect(rds.commandCalls(CreateDBSnapshotCommand)[0].args[0].input.Tags).toEqual([
      { Key: 'db-rollback:run', Value: runUrl },
    ]);
  });

  it('reuses the snapshot an earlier attempt of the same run created, found by tag', async () => {
    available();
    rds.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({
      DBSnapshots: [
        {
          ...snapshot('available', 100, [{ Key: 'db-rollback:run', Value: 'https://github.com/o/r/actions/runs/6' }]),
          DBSnapshotIdentifier: 'other-run',
        },
        { ...snapshot('available', 100), DBSnapshotIdentifier: 'pre-rollback-20250101-095500' },
      ],
    });
    const result = await takeSnapshot(client, request());
    expect(result).toMatchObject({ reused: true, snapshot: { identifier: 'pre-rollback-20250101-095500' } });
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  });

  it('fails at once, with the reason from RDS events, when the snapshot fails', async () => {
    available();
    rds.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({ DBSnapshots: [] });
    rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: snapshot('creating', 0) });
    rds
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-rollback-20250101-100000' })
      .resolves({ DBSnapshots: [snapshot('failed', 12)] });
    rds.on(DescribeEventsCommand).resolves({
      Events: [{ Message: 'Snapshot failed: insufficient storage', Date: new Date('2025-01-01T10:01:00Z') }],
    });
    const clock = manualClock();
    await expect(takeSnapshot(client, request({ clock }))).rejects.toThrow(
      'Snapshot "pre-rollback-20250101-100000" of DB instance "prod" is "failed": it will not complete. RDS events: 2025-01-01T10:01:00.000Z Snapshot failed: insufficient storage.',
    );
    expect(clock.sleeps).toEqual([5000]);
  });

  it('fails at once when the snapshot disappears', async () => {
    available();
    rds.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({ DBSnapshots: [] });
    rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: snapshot('creating', 0) });
    rds
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-rollback-20250101-100000' })
      .rejects(new DBSnapshotNotFoundFault({ message: 'not found', $metadata: {} }));
    rds.on(DescribeEventsCommand).resolves({ Events: [] });
    await expect(takeSnapshot(client, request())).rejects.toThrow('disappeared while it was being created');
  });

  it('refuses a name taken by something else instead of reusing it', async () => {
    available();
    rds.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({ DBSnapshots: [] });
    rds.on(CreateDBSnapshotCommand).rejects(new DBSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} }));
    rds
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-rollback-20250101-100000' })
      .resolves({ DBSnapshots: [snapshot('available', 100, [])] });
    await expect(takeSnapshot(client, request())).rejects.toThrow(
      'already exists and was not created by this workflow run',
    );
  });

  it('sends an Aurora member instance to its cluster before any snapshot is attempted', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'prod', DBInstanceStatus: 'available', DBClusterIdentifier: 'ticket-aurora' },
      ],
    });
    await expect(takeSnapshot(client, request())).rejects.toThrow(
      'is an instance of Aurora cluster "ticket-aurora": backups, snapshots and restores are the cluster\'s. Use db-cluster-identifier: ticket-aurora.',
    );
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  });

  it('stops at the timeout, saying the snapshot is still being made and a re-run will reuse it', async () => {
    available();
    rds.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({ DBSnapshots: [] });
    rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: snapshot('creating', 0) });
    rds
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'pre-rollback-20250101-100000' })
      .resolves({ DBSnapshots: [snapshot('creating', 7)] });
    const clock = manualClock();
    await expect(
      takeSnapshot(client, request({ clock, schedule: { intervalMs: 5000, timeoutMs: 60_000 } })),
    ).rejects.toThrow(
      'Timed out after 1m 0s waiting for snapshot "pre-rollback-20250101-100000" to become available; last seen: creating (7%). RDS is still making it',
    );
    expect(clock.sleeps).toHaveLength(12);
  });

  it('returns once AWS accepted it when not waiting', async () => {
    available();
    rds.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({ DBSnapshots: [] });
    rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: snapshot('creating', 0) });
    const result = await takeSnapshot(client, request({ wait: false }));
    expect(result).toMatchObject({ snapshot: { status: 'creating' }, waitedMs: 0, polls: 0 });
  });
});
