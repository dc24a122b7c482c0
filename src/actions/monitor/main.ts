import { formatDuration } from '../../common/duration.js';
import { describeSource, describeThreshold } from '../../monitor/checks.js';
import { runMonitor } from '../../monitor/run.js';
import { monitorSummary } from '../../monitor/summary.js';
import { defineAction } from '../common/action.js';
import { inputs, monitorOptions } from './inputs.js';

/** The runbook's "Monitor Metrics": metric checks after the restart that fail fast and never pass on no data. */
export const action = defineAction({
  name: 'monitor',
  inputs,
  outputs: { passed: 'false', results: '[]', failure: '' },
  async run(given, runtime) {
    const { logger } = runtime;
    const options = monitorOptions(given);
    for (const check of options.checks)
      logger.info(`${check.name}: ${describeSource(check)}, ${describeThreshold(check.threshold)}`);
    logger.info(
      `Watching ${options.checks.length} check(s) every ${formatDuration(options.intervalMs)} for ${formatDuration(options.durationMs)}; failure-limit ${options.failureLimit}, inconclusive-limit ${options.inconclusiveLimit}, ${formatDuration(options.requestTimeoutMs)} per request.`,
    );
    const report = await logger.group('Metric samples', () => runMonitor({ ...options, clock: runtime.clock, logger }));
    // The runtime scrubs secrets from outputs, the summary and the error: a server's error body can
    // echo a header back into a sample's message.
    runtime.setOutput('passed', report.passed);
    runtime.setOutput('results', JSON.stringify(report.checks));
    runtime.setOutput('failure', report.failure ?? '');
    runtime.summary.markdown(monitorSummary(report, options));
    if (!report.passed) throw new Error(report.failure);
    logger.info(
      `Every check held its threshold for ${formatDuration(options.durationMs)} (${report.rounds} samples each).`,
    );
  },
});
