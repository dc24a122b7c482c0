import { silentLogger } from '../../src/common/logger.js';
import {
  CreateDBInstanceCommand,
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  DescribeDBClustersCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  RestoreDBClusterToPointInTimeCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { restoreDatabase, type RestoreRequest } from '../../src/rds/restore.js';
import { manualClock } from '../helpers/manual-clock.js';

const rds = mockClient(RDSClient);
const client = new RDSClient({ region: 'us-east-1' });
const now = new Date('2025-01-01T12:00:00Z');
const runUrl = 'https://github.com/o/r/actions/runs/7';
const notFound = () => new DBInstanceNotFoundFault({ message: 'not found', $metadata: {} });

function request(fields: Partial<RestoreRequest> = {}): RestoreRequest {
  return {
    source: { kind: 'instance', identifier: 'prod' },
    targetIdentifier: 'prod-recovery',
    from: { kind: 'time', time: new Date('2025-01-01T10:00:00Z') },
    copySettings: true,
    settings: {},
    runTags: [{ Key: 'db-rollback:run', Value: runUrl }],
    runUrl,
    wait: true,
    schedule: { intervalMs: 5000, timeoutMs: 3_600_000 },
    clock: manualClock(),
    now,
    log: { ...silentLogger, info: () => {}, warning: () => {} },
    ...fields,
  };
}

const prod = {
  DBInstanceIdentifier: 'prod',
  DBInstanceStatus: 'available',
  DbiResourceId: 'db-PROD',
  DBInstanceClass: 'db.r6g.large',
  DBSubnetGroup: { DBSubnetGroupName: 'private' },
  VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-11111111' }],
  DBParameterGroups: [{ DBParameterGroupName: 'pg16' }],
  MultiAZ: true,
  TagList: [
    { Key: 'team', Value: 'ticketing' },
    { Key: 'aws:cloudformation:stack-name', Value: 's' },
  ],
  BackupRetentionPeriod: 7,
  LatestRestorableTime: new Date('2025-01-01T11:55:00Z'),
};

beforeEach(() => rds.reset());

describe('restoreDatabase (RDS instance)', () => {
  beforeEach(() => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'prod' }).resolves({ DBInstances: [prod] });
    rds.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({
      DBInstanceAutomatedBackups: [
        // A backup retained from an earlier instance of the same name: its window must not be used.
        {
          DBInstanceIdentifier: 'prod',
          DbiResourceId: 'db-OLD',
          Status: 'retained',
          RestoreWindow: {
            EarliestTime: new Date('2024-01-01T00:00:00Z'),
            LatestTime: new Date('2024-02-01T00:00:00Z'),
          },
        },
        {
          DBInstanceIdentifier: 'prod',
          DbiResourceId: 'db-PROD',
          Status: 'active',
          RestoreWindow: {
            EarliestTime: new Date('2024-12-25T00:00:00Z'),
            LatestTime: new Date('2025-01-01T11:55:00Z'),
          },
        },
      ],
    });
  });

  it('refuses a time before the window, naming the window, without any write', async () => {
    await expect(
      restoreDatabase(client, request({ from: { kind: 'time', time: new Date('2024-12-20T00:00:00Z') } })),
    ).rejects.toThrow(
      'Cannot restore DB instance "prod": restore-time 2024-12-20T00:00:00.000Z is before the earliest restorable time. The restorable window is 2024-12-25T00:00:00.000Z to 2025-01-01T11:55:00.000Z. Nothing was changed.',
    );
    expect(rds.commandCalls(RestoreDBInstanceToPointInTimeCommand)).toHaveLength(0);
  });

  it('refuses the source as target', async () => {
    await expect(restoreDatabase(client, request({ targetIdentifier: 'PROD' }))).rejects.toThrow(
      'is the source itself',
    );
    expect(rds.calls()).toHaveLength(0);
  });

  it('copies the source settings, lets given ones win, and waits for the endpoint', async () => {
    rds
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'prod-recovery' })
      .rejectsOnce(notFound())
      .resolvesOnce({ DBInstances: [{ DBInstanceIdentifier: 'prod-recovery', DBInstanceStatus: 'creating' }] })
      .resolves({
        DBInstances: [
          {
            DBInstanceIdentifier: 'prod-recovery',
            DBInstanceStatus: 'available',
            Endpoint: { Address: 'prod-recovery.x.rds.amazonaws.com', Port: 5432 },
          },
        ],
      });
    rds.on(RestoreDBInstanceToPointInTimeCommand).resolves({});
    const result = await restoreDatabase(client, request({ settings: { instanceClass: 'db.r6g.xlarge' } }));
    expect(rds.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input).toEqual({
      SourceDBInstanceIdentifier: 'prod',
      TargetDBInstanceIdentifier: 'prod-recovery',
      RestoreTime: new Date('2025-01-01T10:00:00Z'),
      UseLatestRestorableTime: undefined,
      DBInstanceClass: 'db.r6g.xlarge',
      DBSubnetGroupName: 'private',
      VpcSecurityGroupIds: ['sg-11111111'],
      DBParameterGroupName: 'pg16',
      MultiAZ: true,
      Tags: [
        { Key: 'team', Value: 'ticketing' },
        { Key: 'db-rollback:run', Value: runUrl },
      ],
    });
    expect(result).toMatchObject({
      status: 'available',
      endpointAddress: 'prod-recovery.x.rds.amazonaws.com',
      endpointPort: 5432,
      waitedMs: 10_000,
    });
  });

  it('refuses an existing target that this run did not create', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'prod-recovery' }).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'prod-recovery', DBInstanceStatus: 'available', TagList: [] }],
    });
    await expect(restoreDatabase(client, request())).rejects.toThrow(
      'already exists and was not created by this workflow run',
    );
    expect(rds.commandCalls(RestoreDBInstanceToPointInTimeCommand)).toHaveLength(0);
  });
});

describe('restoreDatabase (Aurora cluster)', () => {
  it('restores the cluster, creates the writer instance it lacks, and waits for both', async () => {
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'aurora' }).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'aurora',
          Status: 'available',
          Engine: 'aurora-postgresql',
          BackupRetentionPeriod: 7,
          EarliestRestorableTime: new Date('2024-12-25T00:00:00Z'),
          LatestRestorableTime: new Date('2025-01-01T11:55:00Z'),
          DBSubnetGroup: 'private',
          DBClusterParameterGroup: 'aurora-pg16',
          DBClusterMembers: [
            { DBInstanceIdentifier: 'aurora-reader', IsClusterWriter: false },
            { DBInstanceIdentifier: 'aurora-writer', IsClusterWriter: true },
          ],
        },
      ],
    });
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'aurora-writer' }).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'aurora-writer',
          DBInstanceClass: 'db.r6g.2xlarge',
          DBInstanceStatus: 'available',
          DBParameterGroups: [{ DBParameterGroupName: 'aurora-instance' }],
        },
      ],
    });
    rds
      .on(DescribeDBClustersCommand, { DBClusterIdentifier: 'aurora-recovery' })
      .rejectsOnce(new DBClusterNotFoundFault({ message: 'nf', $metadata: {} }))
      .resolvesOnce({ DBClusters: [{ DBClusterIdentifier: 'aurora-recovery', Status: 'creating' }] })
      .resolves({
        DBClusters: [
          {
            DBClusterIdentifier: 'aurora-recovery',
            Status: 'available',
            Endpoint: 'aurora-recovery.cluster-x.rds.amazonaws.com',
            Port: 5432,
          },
        ],
      });
    rds
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'aurora-recovery-instance-1' })
      .rejectsOnce(notFound())
      .resolvesOnce({ DBInstances: [{ DBInstanceStatus: 'creating' }] })
      .resolvesOnce({ DBInstances: [{ DBInstanceStatus: 'creating' }] })
      .resolves({ DBInstances: [{ DBInstanceStatus: 'available' }] });
    rds.on(RestoreDBClusterToPointInTimeCommand).resolves({});
    rds.on(CreateDBInstanceCommand).resolves({});
    const result = await restoreDatabase(
      client,
      request({
        source: { kind: 'cluster', identifier: 'aurora' },
        targetIdentifier: 'aurora-recovery',
        from: { kind: 'latest' },
      }),
    );
    expect(rds.commandCalls(RestoreDBClusterToPointInTimeCommand)[0].args[0].input).toMatchObject({
      SourceDBClusterIdentifier: 'aurora',
      DBClusterIdentifier: 'aurora-recovery',
      UseLatestRestorableTime: true,
      DBSubnetGroupName: 'private',
      DBClusterParameterGroupName: 'aurora-pg16',
    });
    expect(rds.commandCalls(CreateDBInstanceCommand)[0].args[0].input).toMatchObject({
      DBInstanceIdentifier: 'aurora-recovery-instance-1',
      DBClusterIdentifier: 'aurora-recovery',
      Engine: 'aurora-postgresql',
      DBInstanceClass: 'db.r6g.2xlarge',
      DBParameterGroupName: 'aurora-instance',
    });
    expect(result).toMatchObject({
      status: 'available',
      writerIdentifier: 'aurora-recovery-instance-1',
      endpointAddress: 'aurora-recovery.cluster-x.rds.amazonaws.com',
      waitedMs: 15_000,
    });
  });
});
