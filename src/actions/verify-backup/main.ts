import { formatDuration } from '../../common/duration.js';
import { ConfigurationError } from '../../common/errors.js';
import { verifyBackup, type BackupReport } from '../../rds/backups.js';
import { createRdsClient } from '../../rds/client.js';
import { describeTarget, type DbTarget } from '../../rds/source.js';
import { defineAction, type Runtime } from '../common/action.js';
import { duration, flag, text } from '../common/inputs.js';
import { checkSnapshotReference, resolveTarget, targetInputs } from '../rds-shared/inputs.js';
import { factsTable, iso } from '../rds-shared/summary.js';

const OUTPUTS = [
  'latest-snapshot-identifier',
  'latest-snapshot-time',
  'latest-snapshot-age-seconds',
  'latest-restorable-time',
  'backup-retention-days',
] as const;
type Output = (typeof OUTPUTS)[number];

interface VerifyBackupInputs {
  target: DbTarget;
  region: string;
  /** The newest available automated snapshot (or the named one) must be younger than this, in ms. */
  maxAgeMs: number;
  /** Verify this one snapshot instead of the newest automated one. */
  snapshotIdentifier?: string;
  /** Also require point-in-time recovery: backups on and a restore window reaching to within max-restore-lag. */
  requirePitr: boolean;
  /** How far LatestRestorableTime may trail now, in ms. */
  maxRestoreLagMs: number;
}

/**
 * The runbook's "Verify Backup": a recent automated snapshot exists and is complete, and
 * point-in-time recovery reaches to within minutes of now. Outputs are set from what was
 * found even when the check fails, so a later step can still show it.
 */
export const action = defineAction({
  name: 'verify-backup',
  inputs: {
    ...targetInputs,
    maxAgeMs: duration('max-age', '24h', { min: 1 }),
    snapshotIdentifier: text('snapshot-identifier'),
    requirePitr: flag('require-pitr', true),
    maxRestoreLagMs: duration('max-restore-lag', '15m', { min: 1 }),
  },
  outputs: Object.fromEntries(OUTPUTS.map((name) => [name, ''])) as Record<Output, string>,
  async run(given, runtime) {
    const { logger } = runtime;
    const target = resolveTarget(given);
    if (given.snapshotIdentifier) checkSnapshotReference('snapshot-identifier', target.kind, given.snapshotIdentifier);
    const inputs: VerifyBackupInputs = { ...given, target };
    const client = createRdsClient({ region: inputs.region });
    const now = new Date(runtime.clock.now());
    const report = await logger.group(
      `Checking the backups of ${describeTarget(inputs.target)} in ${inputs.region}`,
      async () => {
        const result = await verifyBackup(client, { ...inputs, now, region: inputs.region });
        logger.info(`Status: ${result.source.status}; backup retention: ${result.source.backupRetentionDays} day(s).`);
        if (!inputs.snapshotIdentifier) logger.info(`Automated snapshots seen: ${result.automatedSnapshotsSeen}.`);
        if (result.snapshot)
          logger.info(
            `Snapshot checked: ${result.snapshot.identifier} (${result.snapshot.status}, taken ${iso(result.snapshot.createTime)}).`,
          );
        if (result.latestRestorableTime) logger.info(`Latest restorable time: ${iso(result.latestRestorableTime)}.`);
        return result;
      },
    );
    client.destroy();
    setOutputs(runtime, report);
    writeSummary(runtime, inputs, report, now);
    if (report.problems.length) {
      for (const problem of report.problems.slice(0, -1)) logger.error(problem);
      throw new ConfigurationError(report.problems[report.problems.length - 1]);
    }
    logger.info(`Backups of ${describeTarget(inputs.target)} verified.`);
  },
});

function setOutputs({ setOutput }: Runtime<Output>, report: BackupReport): void {
  setOutput('latest-snapshot-identifier', report.snapshot?.identifier ?? '');
  setOutput('latest-snapshot-time', iso(report.snapshot?.createTime));
  setOutput('latest-snapshot-age-seconds', report.snapshotAgeSeconds ?? '');
  setOutput('latest-restorable-time', iso(report.latestRestorableTime));
  setOutput('backup-retention-days', report.source.backupRetentionDays);
}

function writeSummary({ summary }: Runtime<Output>, inputs: VerifyBackupInputs, report: BackupReport, now: Date): void {
  const verdict = report.problems.length ? 'Backup verification FAILED' : 'Backup verified';
  summary.heading(`${verdict}: ${describeTarget(inputs.target)}`, 2);
  factsTable(summary, [
    ['Region', inputs.region],
    ['Checked at', now.toISOString()],
    ['Status', report.source.status],
    ['Backup retention', `${report.source.backupRetentionDays} day(s)`],
    [
      inputs.snapshotIdentifier ? 'Snapshot checked' : 'Newest available automated snapshot',
      report.snapshot?.identifier ?? 'none',
    ],
    ['Snapshot status', report.snapshot?.status],
    ['Snapshot taken', iso(report.snapshot?.createTime)],
    [
      'Snapshot age',
      report.snapshotAgeSeconds !== undefined
        ? `${formatDuration(report.snapshotAgeSeconds * 1000)} (max-age ${formatDuration(inputs.maxAgeMs)})`
        : undefined,
    ],
    ['Automated snapshots seen', inputs.snapshotIdentifier ? undefined : report.automatedSnapshotsSeen],
    [
      'Newer snapshots not available',
      report.newerUnavailable.map((snapshot) => `${snapshot.identifier} (${snapshot.status})`).join(', ') || undefined,
    ],
    ['Latest restorable time', iso(report.latestRestorableTime)],
    [
      'Restore lag',
      report.restoreLagSeconds !== undefined
        ? `${formatDuration(report.restoreLagSeconds * 1000)} (max-restore-lag ${formatDuration(inputs.maxRestoreLagMs)}${inputs.requirePitr ? '' : ', not required'})`
        : undefined,
    ],
  ]);
  if (report.problems.length) {
    summary.heading('Problems', 3);
    summary.list(report.problems);
    summary.paragraph(
      'Do not start the rollback until a good backup exists: fix the above, or take a manual snapshot with the snapshot action and verify it with snapshot-identifier.',
    );
  } else {
    summary.paragraph('Next step in the runbook: take a manual snapshot (the snapshot action) before rolling back.');
  }
}
