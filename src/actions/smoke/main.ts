import * as core from '@actions/core';
import { formatDuration } from '../../common/duration.js';
import { escapeHtml } from '../../common/html.js';
import { runSmoke, type SmokeReport } from '../../smoke/run.js';
import type { CheckResult } from '../../smoke/types.js';
import { runAction, type SecretRegistry } from '../common/run.js';
import { Outputs } from './constants.js';
import { getInputs } from './inputs.js';

/** Health URLs, the smoke command and the schema check: "is the service back?" as a yes or no with the evidence. */
export async function run(): Promise<void> {
  // Set first so a run that stops on bad input still leaves every output defined.
  core.setOutput(Outputs.Passed, 'false');
  core.setOutput(Outputs.Results, '[]');
  await runAction(async (secrets) => {
    const inputs = getInputs();
    secrets.add(...inputs.secrets);
    const plan = [
      inputs.urls.length
        ? `${inputs.urls.length} URL(s) expecting ${inputs.expectedStatus.text}${inputs.expectBody ? ` and ${inputs.expectBody.text}` : ''}`
        : '',
      inputs.command ? `then \`${inputs.command}\`` : '',
      inputs.databaseUrl ? `${inputs.expectedTables.length} table expectation(s)` : '',
    ].filter(Boolean);
    core.info(
      `Checking ${plan.join(', ')}; up to ${inputs.attempts} attempts from ${formatDuration(inputs.intervalMs)} apart (growing to ${formatDuration(inputs.maxIntervalMs)}), ${formatDuration(inputs.requestTimeoutMs)} per request, ${formatDuration(inputs.deadlineMs)} overall.`,
    );

    const report = await core.group('Smoke checks', () =>
      runSmoke({
        urls: inputs.urls,
        headers: inputs.headers,
        expectedStatus: inputs.expectedStatus,
        expectBody: inputs.expectBody,
        attempts: inputs.attempts,
        intervalMs: inputs.intervalMs,
        maxIntervalMs: inputs.maxIntervalMs,
        requestTimeoutMs: inputs.requestTimeoutMs,
        deadlineMs: inputs.deadlineMs,
        retryOn4xx: inputs.retryOn4xx,
        command: inputs.command,
        commandCwd: inputs.commandCwd,
        // The step's own inputs (the database URL, the headers) are not the command's business.
        commandEnv: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('INPUT_'))),
        database: inputs.databaseUrl ? { url: inputs.databaseUrl, tables: inputs.expectedTables } : undefined,
        logger: {
          info: (line) => core.info(secrets.scrub(line)),
          warning: (line) => core.warning(secrets.scrub(line)),
        },
      }),
    );
    // A body or an error can echo a header or the connection string back: scrub before anything leaves.
    const results = report.results.map((result) => scrubResult(result, secrets));
    core.setOutput(Outputs.Passed, String(report.passed));
    core.setOutput(Outputs.Results, JSON.stringify(results));
    await writeSummary({ ...report, results });
    if (!report.passed) {
      const failed = results.filter((result) => !result.passed && !result.skipped);
      throw new Error(`Smoke checks failed: ${failed.map((result) => `${result.check}: ${result.error}`).join('; ')}`);
    }
    core.info(`All ${results.length} check(s) passed.`);
  });
}

function scrubResult(result: CheckResult, secrets: SecretRegistry): CheckResult {
  return JSON.parse(secrets.scrub(JSON.stringify(result))) as CheckResult;
}

async function writeSummary(report: SmokeReport): Promise<void> {
  const verdict = report.passed ? '✅ every check passed' : '❌ at least one check failed';
  const summary = core.summary
    .addHeading('Smoke checks', 2)
    .addRaw(`<p>${verdict}.</p>`, true)
    .addTable([
      [
        { data: 'Check', header: true },
        { data: 'Result', header: true },
        { data: 'Attempts', header: true },
        { data: 'Latency', header: true },
        { data: 'Last failure', header: true },
      ],
      ...report.results.map((result) => [
        escapeHtml(result.check),
        result.skipped
          ? '⏭️ skipped'
          : result.passed
            ? `✅ ${result.lastStatus ?? 'passed'}`
            : `❌ ${result.lastStatus ?? 'failed'}`,
        String(result.attempts),
        result.latencyMs === undefined ? '—' : `${result.latencyMs}ms`,
        result.passed
          ? '—'
          : `${escapeHtml(result.error ?? '')}${result.snippet ? `<br><pre>${escapeHtml(result.snippet)}</pre>` : ''}`,
      ]),
    ]);
  const database = report.results.find((result) => result.kind === 'database');
  if (database && (database.missingTables?.length || database.unexpectedTables?.length)) {
    summary.addHeading('Inconsistent state', 3);
    if (database.missingTables?.length)
      summary.addRaw(
        `<p>Tables the migrations expect that do not exist: <code>${database.missingTables.join('</code>, <code>')}</code></p>`,
        true,
      );
    if (database.unexpectedTables?.length)
      summary.addRaw(
        `<p>Tables that should be gone but still exist: <code>${database.unexpectedTables.join('</code>, <code>')}</code></p>`,
        true,
      );
  }
  await summary.write();
}
