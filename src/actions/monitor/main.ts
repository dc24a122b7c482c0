import * as core from '@actions/core';
import { systemClock } from '../../common/clock.js';
import { formatDuration } from '../../common/duration.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { describeSource, describeThreshold } from '../../monitor/checks.js';
import { runMonitor } from '../../monitor/run.js';
import { monitorSummary } from '../../monitor/summary.js';
import { runAction, type SecretRegistry } from '../common/run.js';
import { Outputs } from './constants.js';
import { getInputs } from './inputs.js';

/** The runbook's "Monitor Metrics": metric checks after the restart that fail fast and never pass on no data. */
export async function run(): Promise<void> {
  // Set first so a run that stops on bad input still leaves every output defined.
  core.setOutput(Outputs.Passed, 'false');
  core.setOutput(Outputs.Results, '[]');
  core.setOutput(Outputs.Failure, '');
  await runAction(async (secrets) => {
    const inputs = getInputs();
    secrets.add(...inputs.secrets);
    const logger = scrubbingLogger(secrets);
    for (const check of inputs.checks)
      logger.info(`${check.name}: ${describeSource(check)}, ${describeThreshold(check.threshold)}`);
    logger.info(
      `Watching ${inputs.checks.length} check(s) every ${formatDuration(inputs.intervalMs)} for ${formatDuration(inputs.durationMs)}; failure-limit ${inputs.failureLimit}, inconclusive-limit ${inputs.inconclusiveLimit}, ${formatDuration(inputs.requestTimeoutMs)} per request.`,
    );
    const report = await core.group('Metric samples', () => runMonitor({ ...inputs, clock: systemClock, logger }));
    // A server's error body can echo a header back: scrub everything before it leaves.
    const results = secrets.scrub(JSON.stringify(report.checks));
    core.setOutput(Outputs.Passed, String(report.passed));
    core.setOutput(Outputs.Results, results);
    core.setOutput(Outputs.Failure, secrets.scrub(report.failure ?? ''));
    try {
      await core.summary.addRaw(secrets.scrub(monitorSummary(report, inputs)), true).write();
    } catch (error) {
      // The verdict matters more than its presentation: a summary that cannot be written only warns.
      core.warning(`The job summary could not be written: ${secrets.scrub(errorMessage(error))}`);
    }
    if (!report.passed) throw new Error(report.failure);
    core.info(
      `Every check held its threshold for ${formatDuration(inputs.durationMs)} (${report.rounds} samples each).`,
    );
  });
}

function scrubbingLogger(secrets: SecretRegistry): Logger {
  return {
    debug: (line) => core.debug(secrets.scrub(line)),
    info: (line) => core.info(secrets.scrub(line)),
    warning: (line) => core.warning(secrets.scrub(line)),
    error: (line) => core.error(secrets.scrub(line)),
    group: (name, body) => core.group(secrets.scrub(name), body),
  };
}
