import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { ConfigurationError } from '../../common/errors.js';
import { scrub } from '../../common/secrets.js';
import { databaseUrlSecrets } from '../../postgres/url.js';
import { listMigrationFiles } from '../../migrations/source.js';
import { checkReversibility } from '../../reversibility/checker.js';
import { buildReport, summaryMarkdown, writeReport, type ReversibilityReport } from '../../reversibility/report.js';
import { dropLiveScratchDatabases } from '../../reversibility/scratch-database.js';
import { logDatabase } from '../common/database.js';
import { runAction } from '../common/run.js';
import { Outputs } from './constants.js';
import { getInputs } from './inputs.js';

/**
 * Runs every migration up, down and up again on a scratch database and reports each
 * down() that does not undo its up(). Fails the step according to `fail-on`.
 */
export async function run(): Promise<void> {
  const reportFile = path.join(process.env.RUNNER_TEMP ?? os.tmpdir(), 'verify-reversible-report.json');
  // Every output is set before anything can fail, and the report file always exists.
  core.setOutput(Outputs.Checked, '0');
  core.setOutput(Outputs.Irreversible, '[]');
  core.setOutput(Outputs.Report, reportFile);
  writeReport(reportFile, emptyReport());
  const stopCancelHandler = dropScratchDatabasesOnCancel();
  // A migration that fires a query without awaiting it can have it rejected after its
  // transaction ended ("Transaction query already complete"). That is a finding about the
  // migration, not a reason for Node to kill the check half-way: say so and go on.
  const onStrayRejection = (reason: unknown) =>
    core.warning(
      scrub(
        `A promise nobody awaited was rejected (an un-awaited query in a migration?): ${reason instanceof Error ? reason.message : String(reason)}`,
        databaseUrlSecrets(core.getInput('database-url')),
      ),
    );
  process.on('unhandledRejection', onStrayRejection);

  try {
    await runAction(async (secrets) => {
      const inputs = getInputs((...values) => secrets.add(...values));
      logDatabase(inputs.connection);

      const files = listMigrationFiles([inputs.migrationsDir]);
      if (files.length === 0) {
        throw new ConfigurationError(
          `Input "migrations-dir" is "${inputs.migrationsDirInput}", which holds no migration files (.js, .cjs, .mjs, .ts).`,
        );
      }
      const result = await core.group(`Checking ${inputs.only.length || files.length} migration(s): up, down, up`, () =>
        checkReversibility({
          serverUrl: inputs.databaseUrl,
          security: inputs.security,
          files,
          only: inputs.only,
          migrationsTable: inputs.migrationsTable,
          schema: inputs.schema,
          logger: {
            info: (message) => core.info(secrets.scrub(message)),
            debug: (message) => core.debug(secrets.scrub(message)),
          },
        }),
      );

      const report = buildReport(result);
      writeReport(reportFile, report);
      core.setOutput(Outputs.Checked, String(report.checked));
      core.setOutput(Outputs.Irreversible, JSON.stringify(report.irreversible));
      await core.summary
        .addRaw(
          secrets.scrub(summaryMarkdown(report, { migrationsDir: inputs.migrationsDirInput, schema: inputs.schema })),
        )
        .write();

      const errors = result.checks.filter((check) => check.outcome === 'error');
      const differences = result.checks.filter((check) => check.outcome === 'difference');
      for (const check of [...errors, ...differences]) {
        const annotate = inputs.failOn === 'error' && check.outcome === 'difference' ? core.warning : core.error;
        annotate(secrets.scrub(`${check.name}: ${check.reason}`), {
          title: 'Migration not reversible',
          file: annotationPath(inputs.migrationsDir, check.name),
        });
      }
      const failing = inputs.failOn === 'error' ? errors : [...errors, ...differences];
      if (failing.length) {
        throw new ConfigurationError(
          `${failing.length} of ${report.checked} migration(s) cannot be rolled back cleanly: ${failing.map((check) => check.name).join(', ')}. ` +
            `Fix their down() so it undoes exactly what up() does (see the job summary for each difference).`,
        );
      }
      core.info(
        `All ${report.checked} checked migration(s) are reversible${differences.length ? ` apart from ${differences.length} difference(s) (fail-on: error)` : ''}.`,
      );
    });
  } finally {
    stopCancelHandler();
    process.off('unhandledRejection', onStrayRejection);
  }
}

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

/**
 * A cancelled run gets SIGINT, then SIGTERM, from the runner: drop the scratch
 * databases before going, or they would pile up on a shared server.
 */
function dropScratchDatabasesOnCancel(): () => void {
  let stopping = false;
  // `on`, not `once`: the runner's SIGTERM follows its SIGINT, and must not kill the drop half-way.
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    core.warning(`Received ${signal}: dropping the scratch database(s) and stopping.`);
    void dropLiveScratchDatabases().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
