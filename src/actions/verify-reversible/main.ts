import os from 'node:os';
import path from 'node:path';
import { ConfigurationError, errorMessage } from '../../common/errors.js';
import { listMigrationFiles } from '../../migrations/source.js';
import { checkReversibility } from '../../reversibility/checker.js';
import { buildReport, summaryMarkdown, writeReport, type ReversibilityReport } from '../../reversibility/report.js';
import { dropLiveScratchDatabases } from '../../reversibility/scratch-database.js';
import { defineAction } from '../common/action.js';
import { resolveDatabase } from '../common/database.js';
import { inputs } from './inputs.js';

const reportFile = () => path.join(process.env.RUNNER_TEMP ?? os.tmpdir(), 'verify-reversible-report.json');

/**
 * Runs every migration up, down and up again on a scratch database and reports each
 * down() that does not undo its up(). Fails the step according to `fail-on`.
 */
export const action = defineAction({
  name: 'verify-reversible',
  inputs,
  outputs: {
    checked: '0',
    irreversible: '[]',
    // The report file always exists, also when the inputs are refused.
    report: () => {
      writeReport(reportFile(), emptyReport());
      return reportFile();
    },
  },
  async run(given, runtime) {
    const { logger, summary } = runtime;
    // A cancelled run (SIGINT, then SIGTERM) must not leave scratch databases piling up on a shared server.
    runtime.onCleanup('dropping the scratch database(s)', dropLiveScratchDatabases);
    // A migration that fires a query without awaiting it can have it rejected after its
    // transaction ended ("Transaction query already complete"). That is a finding about the
    // migration, not a reason for Node to kill the check half-way: say so and go on.
    const onStrayRejection = (reason: unknown) =>
      logger.warning(
        `A promise nobody awaited was rejected (an un-awaited query in a migration?): ${errorMessage(reason)}`,
      );
    process.on('unhandledRejection', onStrayRejection);
    try {
      const { databaseUrl, security } = resolveDatabase(given, runtime);
      const files = listMigrationFiles([given.migrationsDir.path]);
      if (files.length === 0) {
        throw new ConfigurationError(
          `Input "migrations-dir" is "${given.migrationsDir.input}", which holds no migration files (.js, .cjs, .mjs, .ts).`,
        );
      }
      const result = await logger.group(
        `Checking ${given.only.length || files.length} migration(s): up, down, up`,
        () =>
          checkReversibility({
            serverUrl: databaseUrl,
            security: { sslCa: security.sslCa },
            files,
            only: given.only,
            migrationsTable: given.migrationsTable,
            schema: given.schema,
            logger,
          }),
      );

      const report = buildReport(result);
      writeReport(reportFile(), report);
      runtime.setOutput('checked', String(report.checked));
      runtime.setOutput('irreversible', JSON.stringify(report.irreversible));
      summary.markdown(summaryMarkdown(report, { migrationsDir: given.migrationsDir.input, schema: given.schema }));

      const errors = result.checks.filter((check) => check.outcome === 'error');
      const differences = result.checks.filter((check) => check.outcome === 'difference');
      for (const check of [...errors, ...differences]) {
        runtime.annotate(
          given.failOn === 'error' && check.outcome === 'difference' ? 'warning' : 'error',
          `${check.name}: ${check.reason}`,
          { title: 'Migration not reversible', file: annotationPath(given.migrationsDir.path, check.name) },
        );
      }
      const failing = given.failOn === 'error' ? errors : [...errors, ...differences];
      if (failing.length) {
        throw new ConfigurationError(
          `${failing.length} of ${report.checked} migration(s) cannot be rolled back cleanly: ${failing.map((check) => check.name).join(', ')}. ` +
            `Fix their down() so it undoes exactly what up() does (see the job summary for each difference).`,
        );
      }
      logger.info(
        `All ${report.checked} checked migration(s) are reversible${differences.length ? ` apart from ${differences.length} difference(s) (fail-on: error)` : ''}.`,
      );
    } finally {
      process.off('unhandledRejection', onStrayRejection);
    }
  },
});

/** Annotations need the file relative to the repository root to land on the pull request's diff. */
function annotationPath(migrationsDir: string, name: string): string {
  return path
    .relative(process.env.GITHUB_WORKSPACE ?? process.cwd(), path.join(migrationsDir, name))
    .split(path.sep)
    .join('/');
}

function emptyReport(): ReversibilityReport {
  return {
    checked: 0,
    exact: [],
    irreversible: [],
    appliedUnchecked: [],
    notReached: [],
    migrations: [],
    rebuilds: 0,
    durationMs: 0,
  };
}
