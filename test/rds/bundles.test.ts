// Each RDS action's dist bundle run as the runner runs it (Node 24, INPUT_* variables,
// GITHUB_OUTPUT), talking to the local RDS server through AWS_ENDPOINT_URL_RDS.
import { startFakeRds, type FakeRdsOptions, type FakeRdsServer } from '../fakes/rds-server.js';
import { runBundle } from '../helpers/run-bundle.js';

let fake: FakeRdsServer;
const HOUR = 3_600_000;

async function start(options: FakeRdsOptions = {}): Promise<FakeRdsServer> {
  fake = await startFakeRds({ pageSize: 2, ...options });
  return fake;
}
afterEach(() => fake?.close());

function run(
  action: 'verify-backup' | 'snapshot' | 'restore',
  inputs: Record<string, string>,
  env: Record<string, string> = {},
) {
  return runBundle(action, {
    inputs: { region: 'eu-west-1', 'poll-interval': '100ms', ...inputs },
    env: {
      // Static fake credentials for the local server only; workflows use OIDC.
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-for-the-local-server',
      AWS_ENDPOINT_URL_RDS: fake.url,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    },
  });
}

describe('verify-backup bundle', () => {
  it('passes on a recent automated snapshot found on the last page, reading outputs back', async () => {
    await start();
    fake.addInstance('tickettoken-production');
    for (let i = 1; i <= 5; i++)
      fake.addSnapshot(`rds:tickettoken-production-0${i}`, {
        source: 'tickettoken-production',
        createTime: new Date(Date.now() - (30 - i * 5) * HOUR),
      });
    const result = await run('verify-backup', { 'db-instance-identifier': 'tickettoken-production' });
    expect(result.errors).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.outputs['latest-snapshot-identifier']).toBe('rds:tickettoken-production-05');
    expect(Number(result.outputs['latest-snapshot-age-seconds'])).toBeGreaterThanOrEqual(5 * 3600);
    expect(result.outputs['backup-retention-days']).toBe('7');
    expect(Date.parse(result.outputs['latest-restorable-time'])).toBeGreaterThan(Date.now() - 15 * 60_000);
    expect(fake.count('DescribeDBSnapshots')).toBe(3);
    expect(fake.writeCalls()).toEqual([]);
    expect(result.summary).toContain('Backup verified');
  });

  it('fails naming the instance when the newest backup is too old and a newer one failed', async () => {
    await start();
    fake.addInstance('tickettoken-production');
    fake.addSnapshot('rds:tickettoken-production-old', {
      source: 'tickettoken-production',
      createTime: new Date(Date.now() - 30 * HOUR),
    });
    fake.addSnapshot('rds:tickettoken-production-new', {
      source: 'tickettoken-production',
      status: 'failed',
      createTime: new Date(Date.now() - 2 * HOUR),
    });
    const result = await run('verify-backup', { 'db-instance-identifier': 'tickettoken-production' });
    expect(result.code).toBe(1);
    expect(result.errors.join('\n')).toContain('older than max-age 24h 0m');
    expect(result.errors.join('\n')).toContain(
      'Automated snapshot "rds:tickettoken-production-new" of DB instance "tickettoken-production", newer than the newest available one, is "failed".',
    );
    expect(result.outputs['latest-snapshot-identifier']).toBe('rds:tickettoken-production-old');
    expect(result.summary).toContain('Backup verification FAILED');
  });

  it('verifies an Aurora cluster, and fails when its restore window lags', async () => {
    await start();
    fake.addCluster('ticket-aurora', { restoreLagMs: 40 * 60_000 });
    fake.addSnapshot('rds:ticket-aurora-1', {
      kind: 'cluster',
      source: 'ticket-aurora',
      createTime: new Date(Date.now() - HOUR),
    });
    const failing = await run('verify-backup', { 'db-cluster-identifier': 'ticket-aurora' });
    expect(failing.code).toBe(1);
    expect(failing.errors[0]).toMatch(
      /DB cluster "ticket-aurora" can only be restored up to .* more than max-restore-lag 15m 0s/,
    );
    const passing = await run('verify-backup', { 'db-cluster-identifier': 'ticket-aurora', 'max-restore-lag': '1h' });
    expect(passing.errors).toEqual([]);
    expect(passing.outputs['latest-snapshot-identifier']).toBe('rds:ticket-aurora-1');
  });

  it('fails when automated backups are off', async () => {
    await start();
    fake.addInstance('nobackup', { backupRetentionDays: 0 });
    const result = await run('verify-backup', { 'db-instance-identifier': 'nobackup' });
    expect(result.errors.join('\n')).toContain(
      'DB instance "nobackup" has automated backups turned off (backup retention period 0 days)',
    );
    expect(result.outputs['backup-retention-days']).toBe('0');
  });

  it.each([
    [{ 'db-instance-identifier': 'a', 'db-cluster-identifier': 'b' }, 'were both given; give exactly one'],
    [{}, 'Neither "db-instance-identifier" nor "db-cluster-identifier" was given'],
    [
      { 'db-instance-identifier': 'prod--db' },
      'Input "db-instance-identifier" is "prod--db": a DB instance identifier cannot contain two consecutive hyphens.',
    ],
    [{ 'db-instance-identifier': 'prod', 'max-age': 'abc' }, 'Input "max-age" is "abc": it must be a duration'],
    [{ 'db-instance-identifier': 'prod', 'max-age': '-1h' }, 'Input "max-age" is "-1h": it must be a duration'],
    [{ 'db-instance-identifier': 'prod', region: 'mars' }, 'Input "region" is "mars"'],
  ])('refuses %j before calling AWS', async (inputs, message) => {
    await start();
    fake.addInstance('prod');
    const result = await run('verify-backup', inputs);
    expect(result.code).toBe(1);
    expect(result.errors).toEqual([expect.stringContaining(message)]);
    expect(fake.calls).toEqual([]);
    expect(Object.keys(result.outputs).sort()).toEqual([
      'backup-retention-days',
      'latest-restorable-time',
      'latest-snapshot-age-seconds',
      'latest-snapshot-identifier',
      'latest-snapshot-time',
    ]);
  });
});

describe('snapshot bundle', () => {
  it('takes a tagged snapshot, waits through its progress, and a re-run of the same run reuses it', async () => {
    await start({ autoAdvanceMs: 10_000, snapshotDurationMs: 45_000 });
    fake.addInstance('tickettoken-production');
    const reason = '007 broke checkout (see #123), roll back NOW!';
    const first = await run('snapshot', {
      'db-instance-identifier': 'tickettoken-production',
      reason,
      tags: 'ticket=INC-42\nteam = ticketing',
    });
    expect(first.errors).toEqual([]);
    expect(first.outputs).toMatchObject({ status: 'available', reused: 'false' });
    expect(first.outputs['snapshot-identifier']).toMatch(/^pre-rollback-\d{8}-\d{6}$/);
    expect(first.outputs['snapshot-arn']).toBe(
      `arn:aws:rds:eu-west-1:123456789012:snapshot:${first.outputs['snapshot-identifier']}`,
    );
    expect(first.stdout).toMatch(/creating \(\d+%\) after/);
    const snapshot = [...fake.snapshots.values()][0];
    expect(snapshot.tags).toEqual([
      { Key: 'ticket', Value: 'INC-42' },
      { Key: 'team', Value: 'ticketing' },
      { Key: 'db-rollback:repository', Value: 'example/ticket-service' },
      { Key: 'db-rollback:run', Value: 'https://github.com/example/ticket-service/actions/runs/4242' },
      { Key: 'db-rollback:actor', Value: 'on-call-engineer' },
      { Key: 'db-rollback:reason', Value: '007 broke checkout see 123 roll back NOW' },
    ]);
    expect(first.summary).toContain(reason);

    const rerun = await run(
      'snapshot',
      { 'db-instance-identifier': 'tickettoken-production', reason },
      { GITHUB_RUN_ATTEMPT: '2' },
    );
    expect(rerun.errors).toEqual([]);
    expect(rerun.outputs).toMatchObject({
      'snapshot-identifier': first.outputs['snapshot-identifier'],
      status: 'available',
      reused: 'true',
    });
    expect(fake.count('CreateDBSnapshot')).toBe(1);

    const otherRun = await run(
      'snapshot',
      { 'db-instance-identifier': 'tickettoken-production', 'snapshot-identifier': 'pre-rollback-other' },
      { GITHUB_RUN_ID: '4243' },
    );
    expect(otherRun.outputs).toMatchObject({ 'snapshot-identifier': 'pre-rollback-other', reused: 'false' });
    expect(fake.count('CreateDBSnapshot')).toBe(2);
  });

  it('snapshots an Aurora cluster', async () => {
    await start({ autoAdvanceMs: 10_000, snapshotDurationMs: 20_000 });
    fake.addCluster('ticket-aurora');
    const result = await run('snapshot', {
      'db-cluster-identifier': 'ticket-aurora',
      'snapshot-identifier': 'before-007',
      reason: '<img src=x> broke',
    });
    expect(result.errors).toEqual([]);
    expect(result.summary).toContain('<pre><code>&lt;img src=x&gt; broke</code></pre>');
    expect(fake.snapshots.get('cluster:before-007')!.tags).toContainEqual({
      Key: 'db-rollback:reason',
      Value: 'img src=x broke',
    });
    expect(result.outputs).toMatchObject({
      'snapshot-identifier': 'before-007',
      status: 'available',
      'snapshot-arn': 'arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:before-007',
    });
    expect(fake.count('CreateDBClusterSnapshot')).toBe(1);
  });

  it('fails at once, with the reason, when the snapshot fails', async () => {
    await start({ autoAdvanceMs: 10_000, snapshotDurationMs: 30_000, snapshotOutcome: 'failed' });
    fake.addInstance('prod');
    const failedAt = new Date();
    fake.events.push({
      sourceIdentifier: 'doomed',
      sourceType: 'db-snapshot',
      message: 'Snapshot failed: the instance ran out of storage.',
      date: failedAt,
    });
    const result = await run('snapshot', {
      'db-instance-identifier': 'prod',
      'snapshot-identifier': 'doomed',
      timeout: '10h',
    });
    expect(result.code).toBe(1);
    expect(result.errors).toEqual([
      `Snapshot "doomed" of DB instance "prod" is "failed": it will not complete. RDS events: ${failedAt.toISOString()} Snapshot failed: the instance ran out of storage. Do not roll back without a backup; take a new snapshot.`,
    ]);
    // Each request moves the server clock 10 s; the snapshot fails 30 s after creation, and the
    // poll that sees it is the last: one listing (re-run check) plus three polls.
    expect(fake.count('DescribeDBSnapshots')).toBe(1 + 3);
    expect(result.outputs.status).toBe('');
    expect(result.summary).toContain('Snapshot FAILED: DB instance &quot;prod&quot;'.replace(/&quot;/g, '"'));
    expect(result.summary).toContain('the instance ran out of storage');
  });

  it('fails at once when the snapshot vanishes', async () => {
    await start({ autoAdvanceMs: 10_000, snapshotDurationMs: 10 * HOUR, snapshotVanishAfterMs: 25_000 });
    fake.addInstance('prod');
    const result = await run('snapshot', {
      'db-instance-identifier': 'prod',
      'snapshot-identifier': 'vanishing',
      timeout: '10h',
    });
    expect(result.code).toBe(1);
    expect(result.errors[0]).toContain(
      'Snapshot "vanishing" of DB instance "prod" disappeared while it was being created',
    );
    // Gone 25 s after creation: seen missing on the third poll (30 s), the step ends there.
    expect(fake.count('DescribeDBSnapshots')).toBe(1 + 3);
  });

  it('reports an instance in modifying before any snapshot is attempted', async () => {
    await start();
    fake.addInstance('prod', { status: 'modifying' });
    const result = await run('snapshot', { 'db-instance-identifier': 'prod' });
    expect(result.code).toBe(1);
    expect(result.errors[0]).toBe(
      'DB instance "prod" is "modifying", not "available": RDS only snapshots an available instance. No snapshot was attempted. Wait until it is available (aws rds describe-db-instances) and re-run.',
    );
    expect(fake.writeCalls()).toEqual([]);
  });

  it('rides out throttling on CreateDBSnapshot', async () => {
    await start({ autoAdvanceMs: 10_000, snapshotDurationMs: 10_000 });
    fake.addInstance('prod');
    fake.injectFault({
      action: 'CreateDBSnapshot',
      code: 'Throttling',
      status: 400,
      message: 'Rate exceeded',
      times: 2,
    });
    const result = await run('snapshot', { 'db-instance-identifier': 'prod', 'snapshot-identifier': 'busy-day' });
    expect(result.errors).toEqual([]);
    expect(result.outputs.status).toBe('available');
    expect(fake.count('CreateDBSnapshot')).toBe(3);
  });

  it('returns once AWS accepted the snapshot when wait is false', async () => {
    await start();
    fake.addInstance('prod');
    const result = await run('snapshot', {
      'db-instance-identifier': 'prod',
      'snapshot-identifier': 'no-wait',
      wait: 'false',
    });
    expect(result.outputs).toMatchObject({ status: 'creating', 'seconds-waited': '0' });
  });

  it.each([
    [
      { 'snapshot-identifier': '1-pre-rollback' },
      'Input "snapshot-identifier" is "1-pre-rollback": a DB snapshot identifier must start with a letter.',
    ],
    [{ 'snapshot-identifier': 'pre-rollback-' }, 'cannot end with a hyphen'],
    [{ 'snapshot-identifier': 'pre--rollback' }, 'two consecutive hyphens'],
    [{ 'snapshot-identifier': 'pre_rollback' }, 'may contain only letters, digits and hyphens; "_" at position 4'],
    [{ 'snapshot-identifier': 'a'.repeat(256) }, 'at most 255 characters'],
    [{ tags: 'ticket=INC#42' }, 'Input "tags" breaks RDS\'s tag rules'],
    [{ tags: 'aws:owner=me' }, 'reserved'],
    [{ wait: 'yes' }, 'Input "wait" is "yes". Valid values are: [true, false].'],
    [{ timeout: 'soon' }, 'Input "timeout" is "soon"'],
  ])('refuses %j before calling AWS', async (inputs, message) => {
    await start();
    fake.addInstance('prod');
    const result = await run('snapshot', { 'db-instance-identifier': 'prod', ...inputs });
    expect(result.code).toBe(1);
    expect(result.errors).toEqual([expect.stringContaining(message)]);
    expect(fake.calls).toEqual([]);
  });

  it('holds a cluster snapshot identifier to 63 characters', async () => {
    await start();
    fake.addCluster('ticket-aurora');
    const result = await run('snapshot', {
      'db-cluster-identifier': 'ticket-aurora',
      'snapshot-identifier': 'a'.repeat(64),
    });
    expect(result.errors).toEqual([
      expect.stringContaining('a DB cluster snapshot identifier is at most 63 characters; this one has 64'),
    ]);
    expect(fake.calls).toEqual([]);
  });
});

describe('restore bundle', () => {
  it('restores an instance to a point in time with the source settings and waits for its endpoint', async () => {
    await start({ autoAdvanceMs: 10_000, restoreDurationMs: 30_000 });
    fake.addInstance('tickettoken-production', { earliestRestorableTime: new Date(Date.now() - 7 * 24 * HOUR) });
    const restoreTime = new Date(Date.now() - HOUR).toISOString().replace(/\.\d+Z$/, 'Z');
    const result = await run('restore', {
      'db-instance-identifier': 'tickettoken-production',
      'target-identifier': 'tickettoken-recovery',
      'restore-time': restoreTime,
    });
    expect(result.errors).toEqual([]);
    expect(result.outputs).toEqual({
      'target-identifier': 'tickettoken-recovery',
      'endpoint-address': 'tickettoken-recovery.abcdefghijkl.eu-west-1.rds.amazonaws.com',
      'endpoint-port': '5432',
      status: 'available',
      'writer-instance-identifier': '',
    });
    const restored = fake.instances.get('tickettoken-recovery')!;
    expect(restored).toMatchObject({
      instanceClass: 'db.r6g.large',
      subnetGroup: 'ticket-service-db',
      securityGroupIds: ['sg-0a1b2c3d'],
      parameterGroup: 'ticket-service-pg16',
      multiAz: true,
    });
    expect(restored.createdWith).toMatchObject({
      RestoreTime: new Date(restoreTime).toISOString().replace('.000Z', 'Z'),
      SourceDBInstanceIdentifier: 'tickettoken-production',
    });
    expect(restored.tags).toContainEqual({ Key: 'team', Value: 'ticketing' });
    expect(result.summary).toContain('kubectl rollout restart deployment/ticket-service -n production');
  });

  it('restores an instance from a snapshot', async () => {
    await start({ autoAdvanceMs: 10_000, restoreDurationMs: 20_000 });
    fake.addInstance('prod');
    fake.addSnapshot('pre-rollback-20250101-100000', { source: 'prod', type: 'manual' });
    const result = await run('restore', {
      'db-instance-identifier': 'prod',
      'target-identifier': 'prod-recovery',
      'snapshot-identifier': 'pre-rollback-20250101-100000',
      'db-instance-class': 'db.t4g.medium',
    });
    expect(result.errors).toEqual([]);
    expect(result.outputs.status).toBe('available');
    expect(fake.instances.get('prod-recovery')).toMatchObject({
      instanceClass: 'db.t4g.medium',
      createdWith: { DBSnapshotIdentifier: 'pre-rollback-20250101-100000' },
    });
  });

  it('restores an Aurora cluster, creates its writer instance, and waits for both', async () => {
    await start({ autoAdvanceMs: 10_000, restoreDurationMs: 30_000 });
    fake.addCluster('ticket-aurora', { writerClass: 'db.r6g.2xlarge' });
    const result = await run('restore', {
      'db-cluster-identifier': 'ticket-aurora',
      'target-identifier': 'ticket-aurora-recovery',
      'restore-time': 'latest',
    });
    expect(result.errors).toEqual([]);
    expect(result.outputs).toEqual({
      'target-identifier': 'ticket-aurora-recovery',
      'endpoint-address': 'ticket-aurora-recovery.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com',
      'endpoint-port': '5432',
      status: 'available',
      'writer-instance-identifier': 'ticket-aurora-recovery-instance-1',
    });
    expect(fake.clusters.get('ticket-aurora-recovery')).toMatchObject({
      status: 'available',
      members: [{ instance: 'ticket-aurora-recovery-instance-1', writer: true }],
    });
    expect(fake.instances.get('ticket-aurora-recovery-instance-1')).toMatchObject({
      status: 'available',
      instanceClass: 'db.r6g.2xlarge',
      clusterIdentifier: 'ticket-aurora-recovery',
    });
    expect(fake.calls.find((call) => call.action === 'RestoreDBClusterToPointInTime')?.params).toMatchObject({
      UseLatestRestorableTime: 'true',
      SourceDBClusterIdentifier: 'ticket-aurora',
    });
  });

  it('restores an Aurora cluster from a cluster snapshot', async () => {
    await start({ autoAdvanceMs: 10_000, restoreDurationMs: 20_000 });
    fake.addCluster('ticket-aurora');
    fake.addSnapshot('before-007', {
      kind: 'cluster',
      source: 'ticket-aurora',
      type: 'manual',
      engine: 'aurora-postgresql',
    });
    const result = await run('restore', {
      'db-cluster-identifier': 'ticket-aurora',
      'target-identifier': 'aurora-before-007',
      'snapshot-identifier': 'before-007',
      'writer-instance-identifier': 'aurora-before-007-writer',
    });
    expect(result.errors).toEqual([]);
    expect(result.outputs).toMatchObject({
      status: 'available',
      'writer-instance-identifier': 'aurora-before-007-writer',
    });
    expect(fake.calls.find((call) => call.action === 'RestoreDBClusterFromSnapshot')?.params).toMatchObject({
      Engine: 'aurora-postgresql',
      SnapshotIdentifier: 'before-007',
    });
  });

  it.each([
    [
      { 'restore-time': 'yesterday' },
      'Input "restore-time": "yesterday" is not an ISO-8601 UTC time such as 2025-01-01T10:00:00Z (or "latest").',
    ],
    [{ 'restore-time': '2025-01-01 10:00' }, 'is not an ISO-8601 UTC time'],
    [{ 'restore-time': '2999-01-01T00:00:00Z' }, 'Input "restore-time" is 2999-01-01T00:00:00.000Z, in the future'],
    [
      { 'restore-time': 'latest', 'target-identifier': 'prod' },
      'Input "target-identifier" is "prod", the source itself.',
    ],
    [{ 'restore-time': 'latest', 'target-identifier': 'Prod' }, 'the source itself'],
    [
      { 'restore-time': 'latest', 'snapshot-identifier': 's1' },
      'were both given; give exactly one: a point in time, or a snapshot',
    ],
    [{}, 'Neither "restore-time" nor "snapshot-identifier" was given'],
    [{ 'restore-time': 'latest', 'target-identifier': 'prod-' }, 'cannot end with a hyphen'],
    [{ 'restore-time': 'latest', 'vpc-security-group-ids': 'default' }, 'Input "vpc-security-group-ids" has "default"'],
  ])('refuses %j before calling AWS', async (inputs, message) => {
    await start();
    fake.addInstance('prod');
    const result = await run('restore', {
      'db-instance-identifier': 'prod',
      'target-identifier': 'prod-recovery',
      ...inputs,
    });
    expect(result.code).toBe(1);
    expect(result.errors).toEqual([expect.stringContaining(message)]);
    expect(fake.calls).toEqual([]);
  });

  it('refuses a restore time before the earliest restorable time, saying what the window is, with no write call', async () => {
    await start();
    const earliest = new Date(Date.now() - 3 * 24 * HOUR);
    fake.addInstance('prod', { earliestRestorableTime: earliest });
    const result = await run('restore', {
      'db-instance-identifier': 'prod',
      'target-identifier': 'prod-recovery',
      'restore-time': new Date(Date.now() - 5 * 24 * HOUR).toISOString(),
    });
    expect(result.code).toBe(1);
    expect(result.errors[0]).toContain(
      `is before the earliest restorable time. The restorable window is ${earliest.toISOString()} to `,
    );
    expect(fake.calls.map((call) => call.action)).toEqual([
      'DescribeDBInstances',
      'DescribeDBInstanceAutomatedBackups',
    ]);
    expect(result.summary).toContain('Restore FAILED: prod-recovery');
    expect(fake.writeCalls()).toEqual([]);
  });
});
