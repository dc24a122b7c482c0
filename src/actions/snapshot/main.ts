import * as core from '@actions/core';
import { formatDuration } from '../../common/duration.js';
import { runAction } from '../common/run.js';
import { createRdsClient } from '../../rds/client.js';
import { takeSnapshot, type SnapshotResult } from '../../rds/snapshot.js';
import { describeTarget } from '../../rds/source.js';
import { cleanTagValue, mergeTags, runContextFromEnv, standardTags } from '../../rds/tags.js';
import { escapeHtml, factsTable, iso, writeFailureSummary } from '../rds-shared/summary.js';
import { getInputs, type SnapshotInputs } from './inputs.js';

/** The runbook's "Take Manual Backup", tagged with who asked and why, and waited for. */
export async function run(): Promise<void> {
  await runAction(async () => {
    for (const name of ['snapshot-identifier', 'snapshot-arn', 'status', 'seconds-waited']) core.setOutput(name, '');
    core.setOutput('reused', 'false');
    const started = new Date();
    const inputs = getInputs(started);
    const context = runContextFromEnv();
    // User tags first, ours last: the run tag must not be overridden, or a re-run could not find the snapshot.
    const tags = mergeTags(inputs.tags, standardTags(context, inputs.reason));
    const client = createRdsClient({ region: inputs.region });
    try {
      const result = await core.group(`Snapshot of ${describeTarget(inputs.target)} in ${inputs.region}`, () =>
        takeSnapshot(client, {
          target: inputs.target,
          snapshotIdentifier: inputs.snapshotIdentifier,
          tags,
          runUrl: context.runUrl,
          wait: inputs.wait,
          schedule: { intervalMs: inputs.pollIntervalMs, timeoutMs: inputs.timeoutMs },
          log: { info: core.info, warning: core.warning },
          region: inputs.region,
        }),
      );
      core.setOutput('snapshot-identifier', result.snapshot.identifier);
      core.setOutput('snapshot-arn', result.snapshot.arn ?? '');
      core.setOutput('status', result.snapshot.status);
      core.setOutput('seconds-waited', Math.round(result.waitedMs / 1000));
      core.setOutput('reused', String(result.reused));
      core.info(
        `Snapshot "${result.snapshot.identifier}" is ${result.snapshot.status}${result.waitedMs ? ` after ${formatDuration(result.waitedMs)}` : ''}.`,
      );
      await writeSummary(inputs, result, started, tags);
    } catch (error) {
      await writeFailureSummary(
        `Snapshot FAILED: ${describeTarget(inputs.target)}`,
        [
          ['Source', `${describeTarget(inputs.target)} (${inputs.region})`],
          ['Snapshot requested', inputs.snapshotIdentifier],
          ['Requested at', started.toISOString()],
          ['Failed at', new Date().toISOString()],
          ['Reason given', inputs.reason],
        ],
        error,
      );
      throw error;
    } finally {
      client.destroy();
    }
  });
}

async function writeSummary(
  inputs: SnapshotInputs,
  result: SnapshotResult,
  started: Date,
  tags: { Key?: string; Value?: string }[],
): Promise<void> {
  const done = result.snapshot.status === 'available';
  core.summary.addHeading(`${done ? 'Snapshot taken' : 'Snapshot requested'}: ${result.snapshot.identifier}`, 2);
  core.summary.addTable(
    factsTable([
      ['Source', `${describeTarget(inputs.target)} (${inputs.region})`],
      ['Snapshot', result.snapshot.identifier],
      ['ARN', result.snapshot.arn],
      ['Status', result.snapshot.status],
      ['Requested at', started.toISOString()],
      ['Snapshot time', iso(result.snapshot.createTime)],
      [
        'Waited',
        result.waitedMs
          ? `${formatDuration(result.waitedMs)} (${result.polls} status checks)`
          : inputs.wait
            ? '0s'
            : 'not waited (wait: false)',
      ],
      ['Reused from an earlier attempt of this run', result.reused ? 'yes' : 'no'],
    ]),
  );
  if (inputs.reason) {
    core.summary.addHeading('Reason, as given', 3);
    core.summary.addCodeBlock(escapeHtml(inputs.reason));
    if (cleanTagValue(inputs.reason) !== inputs.reason)
      core.summary.addRaw(
        `Stored in the reason tag as: <code>${escapeHtml(cleanTagValue(inputs.reason))}</code>`,
        true,
      );
  }
  core.summary.addHeading('Tags', 3);
  core.summary.addTable([
    [
      { data: 'Key', header: true },
      { data: 'Value', header: true },
    ],
    ...tags.map((tag) => [escapeHtml(tag.Key ?? ''), escapeHtml(tag.Value ?? '')]),
  ]);
  core.summary.addRaw(
    done
      ? `Next step in the runbook: notify stakeholders, then roll back. To undo everything, restore this snapshot with the restore action (snapshot-identifier: ${result.snapshot.identifier}).`
      : 'The snapshot is not available yet: do not start the rollback until it is.',
    true,
  );
  await core.summary.write();
}
