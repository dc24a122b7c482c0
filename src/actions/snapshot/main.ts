import type { Tag } from '@aws-sdk/client-rds';
import { ConfigurationError } from '../../common/errors.js';
import { escapeHtml } from '../../common/html.js';
import { formatDuration } from '../../common/duration.js';
import { createRdsClient } from '../../rds/client.js';
import { DEFAULT_SNAPSHOT_IDENTIFIER, expandSnapshotIdentifier } from '../../rds/identifiers.js';
import { takeSnapshot, type SnapshotResult } from '../../rds/snapshot.js';
import { describeTarget, type DbTarget } from '../../rds/source.js';
import { cleanTagValue, mergeTags, parseTagLines, runContextFromEnv, standardTags } from '../../rds/tags.js';
import { defineAction, type Runtime } from '../common/action.js';
import { flag, lines, text } from '../common/inputs.js';
import { checkIdentifier, resolveTarget, targetInputs, waitInputs } from '../rds-shared/inputs.js';
import { failureSummary, factsTable, iso } from '../rds-shared/summary.js';

interface SnapshotInputs {
  /** The RDS instance or Aurora cluster to snapshot. */
  target: DbTarget;
  region: string;
  /** The snapshot's name, `{timestamp}` expanded (UTC YYYYMMDD-HHMMSS). */
  snapshotIdentifier: string;
  /** Why, as typed by the person who asked: cleaned into a tag, verbatim in the summary. */
  reason?: string;
  wait: boolean;
}

type Output = 'snapshot-identifier' | 'snapshot-arn' | 'status' | 'seconds-waited' | 'reused';

/** The runbook's "Take Manual Backup", tagged with who asked and why, and waited for. */
export const action = defineAction({
  name: 'snapshot',
  inputs: {
    ...targetInputs,
    snapshotIdentifier: text('snapshot-identifier', { default: DEFAULT_SNAPSHOT_IDENTIFIER }),
    reason: text('reason'),
    /** Extra `key=value` tags, checked against RDS's tag rules. */
    tags: lines('tags'),
    /** Wait until the snapshot is available (else return once AWS accepted it). */
    wait: flag('wait', true),
    ...waitInputs,
  },
  outputs: { 'snapshot-identifier': '', 'snapshot-arn': '', status: '', 'seconds-waited': '', reused: 'false' },
  async run(given, runtime) {
    const { logger, setOutput } = runtime;
    const started = new Date(runtime.clock.now());
    const target = resolveTarget(given);
    const snapshotIdentifier = expandSnapshotIdentifier(given.snapshotIdentifier, started);
    const kind = target.kind === 'instance' ? 'DB snapshot' : 'DB cluster snapshot';
    checkIdentifier('snapshot-identifier', kind, snapshotIdentifier);
    const inputs: SnapshotInputs = { ...given, target, snapshotIdentifier };
    const context = runContextFromEnv();
    // User tags first, ours last: the run tag must not be overridden, or a re-run could not find the snapshot.
    const tags = mergeTags(parseTags(given.tags), standardTags(context, inputs.reason));
    const client = createRdsClient({ region: inputs.region });
    try {
      const result = await logger.group(`Snapshot of ${describeTarget(target)} in ${inputs.region}`, () =>
        takeSnapshot(client, {
          target,
          snapshotIdentifier,
          tags,
          runUrl: context.runUrl,
          wait: inputs.wait,
          schedule: { intervalMs: given.pollIntervalMs, timeoutMs: given.timeoutMs },
          clock: runtime.clock,
          log: logger,
          region: inputs.region,
        }),
      );
      setOutput('snapshot-identifier', result.snapshot.identifier);
      setOutput('snapshot-arn', result.snapshot.arn ?? '');
      setOutput('status', result.snapshot.status);
      setOutput('seconds-waited', Math.round(result.waitedMs / 1000));
      setOutput('reused', String(result.reused));
      logger.info(
        `Snapshot "${result.snapshot.identifier}" is ${result.snapshot.status}${result.waitedMs ? ` after ${formatDuration(result.waitedMs)}` : ''}.`,
      );
      writeSummary(runtime, inputs, result, started, tags);
    } catch (error) {
      failureSummary(
        runtime.summary,
        `Snapshot FAILED: ${describeTarget(target)}`,
        [
          ['Source', `${describeTarget(target)} (${inputs.region})`],
          ['Snapshot requested', snapshotIdentifier],
          ['Requested at', started.toISOString()],
          ['Failed at', new Date(runtime.clock.now()).toISOString()],
          ['Reason given', inputs.reason],
        ],
        error,
      );
      throw error;
    } finally {
      client.destroy();
    }
  },
});

function parseTags(lines: string[]): Tag[] {
  const { tags, problems } = parseTagLines(lines);
  if (problems.length) {
    throw new ConfigurationError(
      `Input "tags" breaks RDS's tag rules (keys up to 128 and values up to 256 characters; letters, digits, spaces and _ . : / = + - @ only): ${problems.join('; ')}.`,
    );
  }
  return tags;
}

function writeSummary(
  { summary }: Runtime<Output>,
  inputs: SnapshotInputs,
  result: SnapshotResult,
  started: Date,
  tags: { Key?: string; Value?: string }[],
): void {
  const done = result.snapshot.status === 'available';
  summary.heading(`${done ? 'Snapshot taken' : 'Snapshot requested'}: ${result.snapshot.identifier}`, 2);
  factsTable(summary, [
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
  ]);
  if (inputs.reason) {
    summary.heading('Reason, as given', 3);
    summary.code(inputs.reason);
    if (cleanTagValue(inputs.reason) !== inputs.reason)
      summary.html(`Stored in the reason tag as: <code>${escapeHtml(cleanTagValue(inputs.reason))}</code>`);
  }
  summary.heading('Tags', 3);
  summary.table([
    [
      { data: 'Key', header: true },
      { data: 'Value', header: true },
    ],
    ...tags.map((tag) => [tag.Key ?? '', tag.Value ?? '']),
  ]);
  summary.paragraph(
    done
      ? `Next step in the runbook: notify stakeholders, then roll back. To undo everything, restore this snapshot with the restore action (snapshot-identifier: ${result.snapshot.identifier}).`
      : 'The snapshot is not available yet: do not start the rollback until it is.',
  );
}
