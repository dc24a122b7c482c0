import * as core from '@actions/core';
import { formatDuration } from '../../common/duration.js';
import { ConfigurationError } from '../../common/errors.js';
import { runAction } from '../common/run.js';
import { verifyBackup, type BackupReport } from '../../rds/backups.js';
import { createRdsClient } from '../../rds/client.js';
import { describeTarget } from '../../rds/source.js';
import { escapeHtml, factsTable, iso } from '../rds-shared/summary.js';
import { getInputs, type VerifyBackupInputs } from './inputs.js';

/**
 * The runbook's "Verify Backup": a recent automated snapshot exists and is complete, and
 * point-in-time recovery reaches to within minutes of now. Outputs are set from what was
 * found even when the check fails, so a later step can still show it.
 */
export async function run(): Promise<void> {
  await runAction(async () => {
    // Outputs are declared up front so every path, failure included, sets all of them.
    for (const name of [
      'latest-snapshot-identifier',
      'latest-snapshot-time',
      'latest-snapshot-age-seconds',
      'latest-restorable-time',
      'backup-retention-days',
    ])
      core.setOutput(name, '');
    const inputs = getInputs();
    const client = createRdsClient({ region: inputs.region });
    const now = new Date();
    const report = await core.group(
      `Checking the backups of ${describeTarget(inputs.target)} in ${inputs.region}`,
      async () => {
        const result = await verifyBackup(client, { ...inputs, now, region: inputs.region });
        core.info(`Status: ${result.source.status}; backup retention: ${result.source.backupRetentionDays} day(s).`);
        if (!inputs.snapshotIdentifier) core.info(`Automated snapshots seen: ${result.automatedSnapshotsSeen}.`);
        if (result.snapshot)
          core.info(
            `Snapshot checked: ${result.snapshot.identifier} (${result.snapshot.status}, taken ${iso(result.snapshot.createTime)}).`,
          );
        if (result.latestRestorableTime) core.info(`Latest restorable time: ${iso(result.latestRestorableTime)}.`);
        return result;
      },
    );
    client.destroy();
    setOutputs(report);
    await writeSummary(inputs, report, now);
    if (report.problems.length) {
      for (const problem of report.problems.slice(0, -1)) core.error(problem);
      throw new ConfigurationError(report.problems[report.problems.length - 1]);
    }
    core.info(`Backups of ${describeTarget(inputs.target)} verified.`);
  });
}

function setOutputs(report: BackupReport): void {
  core.setOutput('latest-snapshot-identifier', report.snapshot?.identifier ?? '');
  core.setOutput('latest-snapshot-time', iso(report.snapshot?.createTime));
  core.setOutput('latest-snapshot-age-seconds', report.snapshotAgeSeconds ?? '');
  core.setOutput('latest-restorable-time', iso(report.latestRestorableTime));
  core.setOutput('backup-retention-days', report.source.backupRetentionDays);
}

async function writeSummary(inputs: VerifyBackupInputs, report: BackupReport, now: Date): Promise<void> {
  const verdict = report.problems.length ? 'Backup verification FAILED' : 'Backup verified';
  core.summary.addHeading(`${verdict}: ${describeTarget(inputs.target)}`, 2);
  core.summary.addTable(
    factsTable([
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
        report.newerUnavailable.map((snapshot) => `${snapshot.identifier} (${snapshot.status})`).join(', ') ||
          undefined,
      ],
      ['Latest restorable time', iso(report.latestRestorableTime)],
      [
        'Restore lag',
        report.restoreLagSeconds !== undefined
          ? `${formatDuration(report.restoreLagSeconds * 1000)} (max-restore-lag ${formatDuration(inputs.maxRestoreLagMs)}${inputs.requirePitr ? '' : ', not required'})`
          : undefined,
      ],
    ]),
  );
  if (report.problems.length) {
    core.summary.addHeading('Problems', 3);
    core.summary.addList(report.problems.map(escapeHtml));
    core.summary.addRaw(
      'Do not start the rollback until a good backup exists: fix the above, or take a manual snapshot with the snapshot action and verify it with snapshot-identifier.',
      true,
    );
  } else {
    core.summary.addRaw(
      'Next step in the runbook: take a manual snapshot (the snapshot action) before rolling back.',
      true,
    );
  }
  await core.summary.write();
}
