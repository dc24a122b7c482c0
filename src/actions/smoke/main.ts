import { describeDatabaseUrl } from '../../postgres/url.js';
import { formatDuration } from '../../common/duration.js';
import { escapeHtml } from '../../common/html.js';
import { runSmoke, type SmokeReport } from '../../smoke/run.js';
import type { CheckResult } from '../../smoke/types.js';
import { defineAction, type Runtime } from '../common/action.js';
import { resolveDatabase } from '../common/database.js';
import { checkCombination, inputs } from './inputs.js';

/** Health URLs, the smoke command and the schema check: "is the service back?" as a yes or no with the evidence. */
export const action = defineAction({
  name: 'smoke',
  inputs,
  outputs: { passed: 'false', results: '[]' },
  async run(given, runtime) {
    const { logger, secrets } = runtime;
    checkCombination(given);
    const database = given.databaseUrl
      ? resolveDatabase({ ...given, databaseUrl: given.databaseUrl }, runtime)
      : undefined;
    const plan = [
      given.urls.length
        ? `${given.urls.length} URL(s) expecting ${given.expectedStatus.text}${given.expectBody ? ` and ${given.expectBody.text}` : ''}`
        : '',
      given.command ? `then \`${given.command}\`` : '',
      given.databaseUrl
        ? `${given.expectedTables.length} table expectation(s) on ${describeDatabaseUrl(given.databaseUrl)}`
        : '',
    ].filter(Boolean);
    logger.info(
      `Checking ${plan.join(', ')}; up to ${given.attempts} attempts from ${formatDuration(given.intervalMs)} apart (growing to ${formatDuration(given.maxIntervalMs)}), ${formatDuration(given.requestTimeoutMs)} per request, ${formatDuration(given.deadlineMs)} overall.`,
    );

    const report = await logger.group('Smoke checks', () =>
      runSmoke({
        ...given,
        commandCwd: given.workingDirectory,
        // The step's own inputs (the database URL, the headers) are not the command's business.
        commandEnv: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('INPUT_'))),
        database: database
          ? { url: database.databaseUrl, tables: given.expectedTables, security: database.security }
          : undefined,
        logger,
        clock: runtime.clock,
      }),
    );
    // A body or an error can echo a header or the connection string back: scrub before anything leaves.
    const results = report.results.map((result) => JSON.parse(secrets.scrub(JSON.stringify(result))) as CheckResult);
    runtime.setOutput('passed', String(report.passed));
    runtime.setOutput('results', JSON.stringify(results));
    writeSummary(runtime, { ...report, results }, given.databaseUrl);
    if (!report.passed) {
      const failed = results.filter((result) => !result.passed && !result.skipped);
      throw new Error(`Smoke checks failed: ${failed.map((result) => `${result.check}: ${result.error}`).join('; ')}`);
    }
    logger.info(`All ${results.length} check(s) passed.`);
  },
});

function writeSummary({ summary }: Pick<Runtime, 'summary'>, report: SmokeReport, databaseUrl?: string): void {
  const verdict = report.passed ? '✅ every check passed' : '❌ at least one check failed';
  summary
    .heading('Smoke checks', 2)
    .paragraph(`${verdict}.${databaseUrl ? ` Database: ${describeDatabaseUrl(databaseUrl)}.` : ''}`)
    .htmlTable([
      ['Check', 'Result', 'Attempts', 'Latency', 'Last failure'].map((data) => ({ data, header: true })),
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
  const tables = (names: string[]) => names.map((name) => `<code>${escapeHtml(name)}</code>`).join(', ');
  if (database?.missingTables?.length || database?.unexpectedTables?.length) {
    summary.heading('Inconsistent state', 3);
    if (database.missingTables?.length)
      summary.html(`<p>Tables the migrations expect that do not exist: ${tables(database.missingTables)}</p>`);
    if (database.unexpectedTables?.length)
      summary.html(`<p>Tables that should be gone but still exist: ${tables(database.unexpectedTables)}</p>`);
  }
}
