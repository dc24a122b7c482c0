// verify-backup's decision: is there a recent, complete automated backup, and can the source
// be restored to a point a few minutes ago? Returns everything it found plus the problems,
// so the action can show the evidence in the summary before failing.
import type { RDSClient } from '@aws-sdk/client-rds';
import { formatDuration } from '../common/duration.js';
import { describeSource, describeTarget, requireStandalone, type DbTarget, type SourceInfo } from './source.js';
import { findSnapshot, listSnapshots, type SnapshotInfo } from './snapshots.js';

export interface VerifyBackupOptions {
  target: DbTarget;
  /** The newest available automated snapshot (or the named one) must be younger than this. */
  maxAgeMs: number;
  /** Verify this one snapshot instead of the newest automated one. */
  snapshotIdentifier?: string;
  /** Require point-in-time recovery: retention > 0 and LatestRestorableTime within maxRestoreLagMs. */
  requirePitr: boolean;
  maxRestoreLagMs: number;
  now: Date;
  region?: string;
}

export interface BackupReport {
  source: SourceInfo;
  /** The snapshot checked: the newest available automated one, or the named one. */
  snapshot?: SnapshotInfo;
  snapshotAgeSeconds?: number;
  /** Automated snapshots newer than the newest available one that are not available. */
  newerUnavailable: SnapshotInfo[];
  automatedSnapshotsSeen: number;
  latestRestorableTime?: Date;
  restoreLagSeconds?: number;
  /** Empty when the backup is good. Each names the source and what was found. */
  problems: string[];
}

/** `snapshot-identifier` given: that one snapshot, of this source, available. */
async function checkNamedSnapshot(
  client: RDSClient,
  options: VerifyBackupOptions,
  identifier: string,
  report: BackupReport,
): Promise<void> {
  const { target } = options;
  const name = describeTarget(target);
  const snapshot = await findSnapshot(client, target.kind, identifier);
  if (!snapshot) {
    report.problems.push(`Snapshot "${identifier}" of ${name} was not found.`);
    return;
  }
  report.snapshot = snapshot;
  if (snapshot.sourceIdentifier && snapshot.sourceIdentifier !== target.identifier) {
    report.problems.push(
      `Snapshot "${snapshot.identifier}" was taken of "${snapshot.sourceIdentifier}", not of ${name}.`,
    );
  }
  if (snapshot.status !== 'available') {
    report.problems.push(
      `Snapshot "${snapshot.identifier}" of ${name} is "${snapshot.status}"${progressText(snapshot)}, not "available".`,
    );
  }
}

export async function verifyBackup(client: RDSClient, options: VerifyBackupOptions): Promise<BackupReport> {
  const { target, now } = options;
  const name = describeTarget(target);
  const source = await describeSource(client, target, options.region);
  requireStandalone(source);
  const problems: string[] = [];
  const report: BackupReport = {
    source,
    newerUnavailable: [],
    automatedSnapshotsSeen: 0,
    problems,
    latestRestorableTime: source.latestRestorableTime,
  };

  if (source.backupRetentionDays === 0) {
    problems.push(
      `${name} has automated backups turned off (backup retention period 0 days): there are no automated snapshots and no point-in-time recovery. Set a retention period of at least 1 day.`,
    );
  }

  if (options.snapshotIdentifier) {
    await checkNamedSnapshot(client, options, options.snapshotIdentifier, report);
  } else {
    const automated = await listSnapshots(client, target, 'automated');
    report.automatedSnapshotsSeen = automated.length;
    const available = automated.filter((snapshot) => snapshot.status === 'available' && snapshot.createTime);
    available.sort((a, b) => b.createTime!.getTime() - a.createTime!.getTime());
    const newest = available[0];
    report.snapshot = newest;
    // A snapshot still being made (or one that failed) after the newest good one means the
    // newest backup is not the one the team thinks it is: say so instead of passing quietly.
    report.newerUnavailable = automated.filter(
      (snapshot) =>
        snapshot.status !== 'available' &&
        (!newest || !snapshot.createTime || snapshot.createTime > newest.createTime!),
    );
    if (!newest) {
      const seen =
        automated.length === 0
          ? 'no automated snapshots at all'
          : `${automated.length} automated snapshot(s), none available (${statusList(automated)})`;
      problems.push(`${name} has no available automated snapshot: found ${seen}.`);
    }
    for (const snapshot of report.newerUnavailable) {
      const verb = snapshot.status === 'creating' ? 'is still being created' : `is "${snapshot.status}"`;
      problems.push(
        `Automated snapshot "${snapshot.identifier}" of ${name}, newer than the newest available one, ${verb}${progressText(snapshot)}.`,
      );
    }
  }

  if (report.snapshot?.createTime) {
    const ageMs = now.getTime() - report.snapshot.createTime.getTime();
    report.snapshotAgeSeconds = Math.max(0, Math.round(ageMs / 1000));
    if (report.snapshot.status === 'available' && ageMs > options.maxAgeMs) {
      problems.push(
        `The newest ${options.snapshotIdentifier ? 'checked' : 'available automated'} snapshot of ${name}, "${report.snapshot.identifier}", was taken ${report.snapshot.createTime.toISOString()} (${formatDuration(ageMs)} ago), older than max-age ${formatDuration(options.maxAgeMs)}.`,
      );
    }
  }

  if (options.requirePitr && source.backupRetentionDays > 0) {
    if (!source.latestRestorableTime) {
      problems.push(`${name} reports no latest restorable time: point-in-time recovery is not possible yet.`);
    } else {
      const lagMs = now.getTime() - source.latestRestorableTime.getTime();
      report.restoreLagSeconds = Math.max(0, Math.round(lagMs / 1000));
      if (lagMs > options.maxRestoreLagMs) {
        problems.push(
          `${name} can only be restored up to ${source.latestRestorableTime.toISOString()} (${formatDuration(lagMs)} ago), more than max-restore-lag ${formatDuration(options.maxRestoreLagMs)}: transaction logs are not reaching the backup.`,
        );
      }
    }
  }
  return report;
}

function progressText(snapshot: SnapshotInfo): string {
  return snapshot.percentProgress !== undefined && snapshot.status === 'creating'
    ? ` (${snapshot.percentProgress}% done)`
    : '';
}

function statusList(snapshots: SnapshotInfo[]): string {
  const counts = new Map<string, number>();
  for (const snapshot of snapshots) counts.set(snapshot.status, (counts.get(snapshot.status) ?? 0) + 1);
  return [...counts].map(([status, count]) => `${count} ${status}`).join(', ');
}
