// snapshot's work: refuse an unavailable source before touching anything, reuse what an
// earlier attempt of the same workflow run created, create the snapshot with valid tags, and
// wait for it on our own schedule, failing at once when it fails or disappears.
import { CreateDBClusterSnapshotCommand, CreateDBSnapshotCommand, type RDSClient, type Tag } from '@aws-sdk/client-rds';
import { formatDuration } from '../common/duration.js';
import type { Logger } from '../common/logger.js';
import { ConfigurationError } from '../common/errors.js';
import { awsErrorCode } from './client.js';
import { describeSource, describeTarget, requireStandalone, type DbTarget, type SourceInfo } from './source.js';
import {
  findSnapshot,
  fromClusterSnapshot,
  fromDbSnapshot,
  listSnapshots,
  recentEvents,
  type SnapshotInfo,
} from './snapshots.js';
import { RUN_TAG, tagValue } from './tags.js';
import type { Clock } from '../common/clock.js';
import { poll, WaitTimeoutError, type PollSchedule } from '../common/retry.js';

export interface SnapshotRequest {
  target: DbTarget;
  snapshotIdentifier: string;
  /** Every tag to put on the snapshot, the run tag included. */
  tags: Tag[];
  /** Value of the run tag: an earlier attempt's snapshot carrying it is reused. */
  runUrl: string;
  wait: boolean;
  schedule: PollSchedule;
  clock?: Clock;
  log: Logger;
  region?: string;
}

export interface SnapshotResult {
  source: SourceInfo;
  snapshot: SnapshotInfo;
  /** True when an earlier attempt of this run had already created it. */
  reused: boolean;
  waitedMs: number;
  polls: number;
}

const SNAPSHOT_FAILED = new Set(['failed', 'deleted', 'deleting', 'incompatible-restore', 'incompatible-parameters']);

export async function takeSnapshot(client: RDSClient, request: SnapshotRequest): Promise<SnapshotResult> {
  const { target, log } = request;
  const name = describeTarget(target);
  const source = await describeSource(client, target, request.region);
  requireStandalone(source);
  if (source.status !== 'available') {
    throw new ConfigurationError(
      `${name} is "${source.status}", not "available": RDS only snapshots an available ${target.kind}. No snapshot was attempted. Wait until it is available (aws rds describe-db-${target.kind}s) and re-run.`,
    );
  }

  let snapshot = await findRunSnapshot(client, target, request.runUrl);
  let reused = false;
  if (snapshot) {
    reused = true;
    log.info(
      `Reusing snapshot "${snapshot.identifier}" (${snapshot.status}) that an earlier attempt of this workflow run created (tag ${RUN_TAG}=${request.runUrl}).`,
    );
  } else {
    try {
      snapshot = await createSnapshot(client, target, request.snapshotIdentifier, request.tags);
      log.info(`Requested snapshot "${snapshot.identifier}" of ${name}: ${snapshot.status}.`);
    } catch (error) {
      if (!/AlreadyExists/.test(awsErrorCode(error) ?? '')) throw error;
      const existing = await findSnapshot(client, target.kind, request.snapshotIdentifier);
      if (existing && tagValue(existing.tags, RUN_TAG) === request.runUrl && !SNAPSHOT_FAILED.has(existing.status)) {
        snapshot = existing;
        reused = true;
        log.info(`Snapshot "${existing.identifier}" already exists from this workflow run; reusing it.`);
      } else {
        throw new ConfigurationError(
          `A snapshot named "${request.snapshotIdentifier}" already exists and was not created by this workflow run. Choose another snapshot-identifier (the default, pre-rollback-{timestamp}, is unique per second). Nothing was created.`,
        );
      }
    }
  }

  if (!request.wait || snapshot.status === 'available') {
    return { source, snapshot, reused, waitedMs: 0, polls: 0 };
  }
  const identifier = snapshot.identifier;
  const outcome = await poll(
    async () => {
      const current = await findSnapshot(client, target.kind, identifier);
      if (!current) {
        const events = await recentEvents(client, snapshotSourceType(target), identifier);
        throw new Error(
          `Snapshot "${identifier}" of ${name} disappeared while it was being created: RDS says it does not exist. Someone deleted it, or RDS abandoned it.${eventsText(events)} Take a new snapshot before rolling back.`,
        );
      }
      if (current.status === 'available') return { done: true, value: current };
      if (SNAPSHOT_FAILED.has(current.status)) {
        const events = await recentEvents(client, snapshotSourceType(target), identifier);
        throw new Error(
          `Snapshot "${identifier}" of ${name} is "${current.status}": it will not complete.${eventsText(events)} Do not roll back without a backup; take a new snapshot.`,
        );
      }
      return { done: false, progress: `${current.status}${progress(current)}` };
    },
    {
      what: `snapshot "${identifier}" to become available`,
      ...request.schedule,
      checkFirst: reused,
      clock: request.clock,
      onPoll: (progress, elapsedMs) => log.info(`${identifier}: ${progress} after ${formatDuration(elapsedMs)}`),
    },
  ).catch((error: unknown) => {
    if (error instanceof WaitTimeoutError) {
      throw new WaitTimeoutError(
        `${error.message} RDS is still making it: a re-run of this workflow run waits for the same snapshot instead of starting another. Do not roll back before it is available.`,
        error.waitedMs,
        error.lastProgress,
      );
    }
    throw error;
  });
  return { source, snapshot: outcome.value, reused, waitedMs: outcome.waitedMs, polls: outcome.polls };
}

/** The newest manual snapshot of the source tagged with this run, unless it failed. */
async function findRunSnapshot(client: RDSClient, target: DbTarget, runUrl: string): Promise<SnapshotInfo | undefined> {
  const manual = await listSnapshots(client, target, 'manual');
  return manual
    .filter((snapshot) => tagValue(snapshot.tags, RUN_TAG) === runUrl && !SNAPSHOT_FAILED.has(snapshot.status))
    .sort((a, b) => (b.createTime?.getTime() ?? 0) - (a.createTime?.getTime() ?? 0))[0];
}

async function createSnapshot(
  client: RDSClient,
  target: DbTarget,
  identifier: string,
  tags: Tag[],
): Promise<SnapshotInfo> {
  if (target.kind === 'instance') {
    const reply = await client.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: target.identifier,
        DBSnapshotIdentifier: identifier,
        Tags: tags,
      }),
    );
    return fromDbSnapshot(reply.DBSnapshot ?? { DBSnapshotIdentifier: identifier, Status: 'creating' });
  }
  const reply = await client.send(
    new CreateDBClusterSnapshotCommand({
      DBClusterIdentifier: target.identifier,
      DBClusterSnapshotIdentifier: identifier,
      Tags: tags,
    }),
  );
  return fromClusterSnapshot(
    reply.DBClusterSnapshot ?? { DBClusterSnapshotIdentifier: identifier, Status: 'creating' },
  );
}

function snapshotSourceType(target: DbTarget): 'db-snapshot' | 'db-cluster-snapshot' {
  return target.kind === 'instance' ? 'db-snapshot' : 'db-cluster-snapshot';
}

function progress(snapshot: SnapshotInfo): string {
  return snapshot.percentProgress !== undefined ? ` (${snapshot.percentProgress}%)` : '';
}

export function eventsText(events: string[]): string {
  return events.length
    ? ` RDS events: ${events
        .slice(-3)
        .map((event) => event.replace(/\.$/, ''))
        .join(' | ')}.`
    : '';
}
