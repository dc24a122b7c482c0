import * as core from '@actions/core';
import { formatDuration } from '../../common/duration.js';
import { runAction } from '../common/run.js';
import { createRdsClient } from '../../rds/client.js';
import { describeFrom, describeWindow, restoreDatabase, type RestoreResult } from '../../rds/restore.js';
import { describeTarget } from '../../rds/source.js';
import { runContextFromEnv, standardTags } from '../../rds/tags.js';
import { escapeHtml, factsTable, writeFailureSummary } from '../rds-shared/summary.js';
import { getInputs, type RestoreInputs } from './inputs.js';

/** The runbook's "Method 3": restore to a new instance from a snapshot or to a point in time. */
export async function run(): Promise<void> {
  await runAction(async () => {
    for (const name of [
      'target-identifier',
      'endpoint-address',
      'endpoint-port',
      'status',
      'writer-instance-identifier',
    ])
      core.setOutput(name, '');
    const now = new Date();
    const inputs = getInputs(now);
    core.setOutput('target-identifier', inputs.targetIdentifier);
    const context = runContextFromEnv();
    const client = createRdsClient({ region: inputs.region });
    try {
      const result = await core.group(
        `Restore ${describeTarget(inputs.source)} to "${inputs.targetIdentifier}" from ${describeFrom(inputs.from)}`,
        () =>
          restoreDatabase(client, {
            source: inputs.source,
            targetIdentifier: inputs.targetIdentifier,
            from: inputs.from,
            copySettings: inputs.copySettings,
            settings: inputs.settings,
            runTags: [
              ...standardTags(context, undefined),
              { Key: 'db-rollback:restored-from', Value: `${inputs.source.identifier}` },
            ],
            runUrl: context.runUrl,
            writerIdentifier: inputs.writerIdentifier,
            wait: inputs.wait,
            schedule: { intervalMs: inputs.pollIntervalMs, timeoutMs: inputs.timeoutMs },
            now,
            log: { info: core.info, warning: core.warning },
            region: inputs.region,
          }),
      );
      core.setOutput('endpoint-address', result.endpointAddress ?? '');
      core.setOutput('endpoint-port', result.endpointPort ?? '');
      core.setOutput('status', result.status);
      core.setOutput('writer-instance-identifier', result.writerIdentifier ?? '');
      core.info(
        `${describeTarget(result.target)} is ${result.status}${result.endpointAddress ? ` at ${result.endpointAddress}:${result.endpointPort}` : ''}.`,
      );
      await writeSummary(inputs, result, now);
    } catch (error) {
      await writeFailureSummary(
        `Restore FAILED: ${inputs.targetIdentifier}`,
        [
          ['Source', `${describeTarget(inputs.source)} (${inputs.region})`],
          ['Restore from', describeFrom(inputs.from)],
          ['New ' + inputs.source.kind, inputs.targetIdentifier],
          ['Requested at', now.toISOString()],
          ['Failed at', new Date().toISOString()],
        ],
        error,
      );
      throw error;
    } finally {
      client.destroy();
    }
  });
}

async function writeSummary(inputs: RestoreInputs, result: RestoreResult, started: Date): Promise<void> {
  const ready = result.status === 'available';
  core.summary.addHeading(`${ready ? 'Restored' : 'Restore started'}: ${result.target.identifier}`, 2);
  const settings = result.settings;
  core.summary.addTable(
    factsTable([
      ['Source', `${describeTarget(inputs.source)} (${inputs.region})`],
      ['Restored from', describeFrom(inputs.from)],
      ['Restorable window at the time', result.window ? describeWindow(result.window) : undefined],
      ['New ' + result.target.kind, result.target.identifier],
      ['Writer instance', result.writerIdentifier],
      ['Status', result.status],
      ['Endpoint', result.endpointAddress ? `${result.endpointAddress}:${result.endpointPort}` : 'not assigned yet'],
      ['Requested at', started.toISOString()],
      ['Waited', result.waitedMs ? formatDuration(result.waitedMs) : inputs.wait ? '0s' : 'not waited (wait: false)'],
      ['Settings', inputs.copySettings ? 'copied from the source unless given' : 'as given (copy-settings: false)'],
      ['Instance class', settings.instanceClass],
      ['Subnet group', settings.subnetGroup],
      ['Security groups', settings.securityGroupIds?.join(', ')],
      ['Parameter group', settings.parameterGroup],
      ['Cluster parameter group', settings.clusterParameterGroup],
      ['Multi-AZ', settings.multiAz === undefined ? undefined : String(settings.multiAz)],
      ['Reused from an earlier attempt of this run', result.reused ? 'yes' : undefined],
    ]),
  );
  core.summary.addHeading('Next step', 3);
  core.summary.addRaw(
    ready
      ? `<p>The source was not touched. Check the restored data on <code>${escapeHtml(`${result.endpointAddress}:${result.endpointPort}`)}</code> (same credentials as the source), then point the service's <code>DATABASE_URL</code> at it and follow the runbook's Post-Rollback Steps: <code>kubectl rollout restart deployment/ticket-service -n production</code>, health check, smoke tests.</p>`
      : '<p>The new database is not available yet; wait for it (aws rds describe-db-instances) before pointing anything at it.</p>',
    true,
  );
  await core.summary.write();
}
