import { formatDuration } from '../../common/duration.js';
import { escapeHtml } from '../../common/html.js';
import { createRdsClient } from '../../rds/client.js';
import { describeFrom, describeWindow, restoreDatabase, type RestoreResult } from '../../rds/restore.js';
import { describeTarget } from '../../rds/source.js';
import { runContextFromEnv, standardTags } from '../../rds/tags.js';
import { defineAction, type Runtime } from '../common/action.js';
import { failureSummary, factsTable } from '../rds-shared/summary.js';
import { inputs as declaredInputs, restoreInputs, type RestoreInputs } from './inputs.js';

type Output = 'target-identifier' | 'endpoint-address' | 'endpoint-port' | 'status' | 'writer-instance-identifier';

/** The runbook's "Method 3": restore to a new instance from a snapshot or to a point in time. */
export const action = defineAction({
  name: 'restore',
  inputs: declaredInputs,
  outputs: {
    'target-identifier': '',
    'endpoint-address': '',
    'endpoint-port': '',
    status: '',
    'writer-instance-identifier': '',
  },
  async run(given, runtime) {
    const { logger, setOutput } = runtime;
    const now = new Date(runtime.clock.now());
    const inputs = restoreInputs(given, now);
    setOutput('target-identifier', inputs.targetIdentifier);
    const context = runContextFromEnv();
    const client = createRdsClient({ region: inputs.region });
    try {
      const result = await logger.group(
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
            clock: runtime.clock,
            now,
            log: logger,
            region: inputs.region,
          }),
      );
      setOutput('endpoint-address', result.endpointAddress ?? '');
      setOutput('endpoint-port', result.endpointPort ?? '');
      setOutput('status', result.status);
      setOutput('writer-instance-identifier', result.writerIdentifier ?? '');
      logger.info(
        `${describeTarget(result.target)} is ${result.status}${result.endpointAddress ? ` at ${result.endpointAddress}:${result.endpointPort}` : ''}.`,
      );
      writeSummary(runtime, inputs, result, now);
    } catch (error) {
      failureSummary(
        runtime.summary,
        `Restore FAILED: ${inputs.targetIdentifier}`,
        [
          ['Source', `${describeTarget(inputs.source)} (${inputs.region})`],
          ['Restore from', describeFrom(inputs.from)],
          ['New ' + inputs.source.kind, inputs.targetIdentifier],
          ['Requested at', now.toISOString()],
          ['Failed at', new Date(runtime.clock.now()).toISOString()],
        ],
        error,
      );
      throw error;
    } finally {
      client.destroy();
    }
  },
});

function writeSummary({ summary }: Runtime<Output>, inputs: RestoreInputs, result: RestoreResult, started: Date): void {
  const ready = result.status === 'available';
  summary.heading(`${ready ? 'Restored' : 'Restore started'}: ${result.target.identifier}`, 2);
  const settings = result.settings;
  factsTable(summary, [
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
  ]);
  summary.heading('Next step', 3);
  summary.html(
    ready
      ? `<p>The source was not touched. Check the restored data on <code>${escapeHtml(`${result.endpointAddress}:${result.endpointPort}`)}</code> (same credentials as the source), then point the service's <code>DATABASE_URL</code> at it and follow the runbook's Post-Rollback Steps: <code>kubectl rollout restart deployment/ticket-service -n production</code>, health check, smoke tests.</p>`
      : '<p>The new database is not available yet; wait for it (aws rds describe-db-instances) before pointing anything at it.</p>',
  );
}
