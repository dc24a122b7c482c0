// The real RDSClient against the local RDS Query API server: wire format, paging, retries,
// error codes and the snapshot life cycle, on the server's clock (no real waiting).
import { silentLogger } from '../../src/common/logger.js';
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand } from '@aws-sdk/client-rds';
import { startFakeRds, type FakeRdsServer } from '../fakes/rds-server.js';
import { createRdsClient, isNotFound } from '../../src/rds/client.js';
import { listSnapshots } from '../../src/rds/snapshots.js';
import { describeSource } from '../../src/rds/source.js';
import { takeSnapshot } from '../../src/rds/snapshot.js';
import type { Clock } from '../../src/common/clock.js';

let fake: FakeRdsServer;
beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-for-the-local-server';
});
beforeEach(async () => {
  fake = await startFakeRds({ pageSize: 2, snapshotDurationMs: 60_000 });
  fake.addInstance('prod');
});
afterEach(() => fake.close());

const client = () => createRdsClient({ region: 'eu-west-1', endpoint: fake.url });
/** Sleeping moves the fake's clock: a minute-long snapshot completes in milliseconds. */
const fakeTime = (): Clock => ({ now: () => fake.clock.now(), sleep: (ms) => Promise.resolve(fake.clock.advance(ms)) });
const prod = { kind: 'instance', identifier: 'prod' } as const;

describe('fake RDS server with the real client', () => {
  it('pages with Marker and the SDK paginator reads every page', async () => {
    for (let i = 0; i < 5; i++)
      fake.addSnapshot(`rds:prod-2025-01-0${i + 1}`, {
        source: 'prod',
        createTime: new Date(Date.UTC(2025, 0, i + 1)),
      });
    fake.addSnapshot('manual-one', { source: 'prod', type: 'manual' });
    const snapshots = await listSnapshots(client(), prod, 'automated');
    expect(snapshots.map((snapshot) => snapshot.identifier)).toHaveLength(5);
    const pages = fake.calls.filter((call) => call.action === 'DescribeDBSnapshots');
    expect(pages.map((call) => call.params.Marker !== undefined)).toEqual([false, true, true]);
    expect(pages[0].params).toMatchObject({
      DBInstanceIdentifier: 'prod',
      SnapshotType: 'automated',
      MaxRecords: '100',
    });
  });

  it('answers errors with RDS codes and statuses', async () => {
    const error = await client()
      .send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'missing' }))
      .then(
        () => ({ name: 'no error', $metadata: { httpStatusCode: 200 } }),
        (e: unknown) => e as { name: string; $metadata: { httpStatusCode?: number } },
      );
    expect(error.name).toBe('DBSnapshotNotFoundFault');
    expect(error.$metadata.httpStatusCode).toBe(404);
    expect(isNotFound(error)).toBe(true);
    const paging = await client()
      .send(new DescribeDBSnapshotsCommand({ MaxRecords: 5 }))
      .then(
        () => ({ name: 'no error', $metadata: { httpStatusCode: 200 } }),
        (e: unknown) => e as { name: string; $metadata: { httpStatusCode?: number } },
      );
    expect(paging.name).toBe('InvalidParameterValue');
  });

  it('retries throttling and 5xx answers (standard retry mode) instead of failing', async () => {
    fake.injectFault({
      action: 'DescribeDBInstances',
      code: 'Throttling',
      status: 400,
      message: 'Rate exceeded',
      times: 2,
    });
    fake.injectFault({ action: 'DescribeDBInstances', code: 'ServiceUnavailable', status: 503 });
    const source = await describeSource(client(), prod);
    expect(source.status).toBe('available');
    expect(fake.calls.map((call) => call.errorCode ?? 'ok')).toEqual([
      'Throttling',
      'Throttling',
      'ServiceUnavailable',
      'ok',
    ]);
  });

  it("enforces RDS's tag rules on CreateDBSnapshot", async () => {
    const error = await client()
      .send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'prod',
          DBSnapshotIdentifier: 'tagged',
          Tags: [{ Key: 'reason', Value: 'roll back NOW!' }],
        }),
      )
      .then(
        () => ({ name: 'no error', $metadata: { httpStatusCode: 200 } }),
        (e: unknown) => e as { name: string; $metadata: { httpStatusCode?: number } },
      );
    expect(error.name).toBe('InvalidParameterValue');
    expect(fake.snapshots.size).toBe(0);
  });

  it('moves a snapshot from creating through PercentProgress to available on its clock', async () => {
    const progress: string[] = [];
    const result = await takeSnapshot(client(), {
      target: prod,
      snapshotIdentifier: 'pre-rollback-20250101-100000',
      tags: [{ Key: 'db-rollback:run', Value: 'https://github.com/o/r/actions/runs/1' }],
      runUrl: 'https://github.com/o/r/actions/runs/1',
      wait: true,
      schedule: { intervalMs: 5000, timeoutMs: 600_000 },
      clock: fakeTime(),
      log: { ...silentLogger, info: (m) => progress.push(m), warning: () => {} },
    });
    expect(result.snapshot.status).toBe('available');
    expect(result.polls).toBe(12);
    // The server clock is real time plus what the polls advanced it, so allow a few real milliseconds.
    expect(progress).toContainEqual(
      expect.stringMatching(/^pre-rollback-20250101-100000: creating \(50%\) after 30(\.\d)?s$/),
    );
    const snapshot = fake.snapshots.get('instance:pre-rollback-20250101-100000')!;
    expect(snapshot.firstSeenDoneAt! - snapshot.completedAt!).toBeLessThanOrEqual(5000);
  });

  it('fails at once when the snapshot vanishes, long before the timeout', async () => {
    fake.options.snapshotDurationMs = 600_000;
    const pending = takeSnapshot(client(), {
      target: prod,
      snapshotIdentifier: 'doomed',
      tags: [],
      runUrl: 'https://github.com/o/r/actions/runs/1',
      wait: true,
      schedule: { intervalMs: 5000, timeoutMs: 3_600_000 },
      clock: {
        now: () => fake.clock.now(),
        sleep: (ms) => {
          fake.clock.advance(ms);
          // Someone deletes it 12 s in.
          if (fake.clock.now() - fake.snapshots.get('instance:doomed')!.createTime.getTime() >= 10_000)
            fake.snapshots.get('instance:doomed')!.vanishAfterMs = 0;
          return Promise.resolve();
        },
      },
      log: { ...silentLogger, info: () => {}, warning: () => {} },
    });
    await expect(pending).rejects.toThrow(
      'Snapshot "doomed" of DB instance "prod" disappeared while it was being created',
    );
    expect(fake.count('DescribeDBSnapshots')).toBe(1 + 2);
  });
});
