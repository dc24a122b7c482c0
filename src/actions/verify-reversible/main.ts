import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { ConfigurationError } from '../../common/errors.js';
import { connectionSecrets, scrub } from '../../common/secrets.js';
import { escapeHtml } from '../../common/html.js';
import {
  assertDirectoriesExist,
  describeSettings,
  relativePath,
  resolveMigrationSettings,
  type MigrationSettings,
} from '../../migrations/knexfile.js';
import { listMigrationFiles } from '../../migrations/source.js';
import { checkReversibility } from '../../reversibility/checker.js';
import { buildReport, summaryMarkdown, writeReport, type ReversibilityReport } from '../../reversibility/report.js';
import { dropLiveScratchDatabases } from '../../reversibility/scratch-database.js';
import { runAction } from '../common/run.js';
import { Outputs } from './constants.js';
import { getInputs, type VerifyReversibleInputs } from './inputs.js';

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
        connectionSecrets(core.getInput('database-url')),
      ),
    );
  process.on('unhandledRejection', onStrayRejection);

  try {
    await runAction(async (secrets) => {
      const inputs = getInputs();
      secrets.add(...connectionSecrets(inputs.databaseUrl));

      const { settings, files, migrationsDir } = await projectMigrations(inputs);
      const result = await core.group(`Checking ${inputs.only.length || files.length} migration(s): up, down, up`, () =>
        checkReversibility({
          serverUrl: inputs.databaseUrl,
          files,
          only: inputs.only,
          migrationsTable: settings.tableName,
          schema: settings.schemaName,
          disableTransactions: settings.disableTransactions,
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
          secrets.scrub(
            summaryMarkdown(report, { migrationsDir: migrationsDir.join(', '), schema: settings.schemaName }) +
              settingsMarkdown(settings),
          ),
        )
        .write();

      const errors = result.checks.filter((check) => check.outcome === 'error');
      const differences = result.checks.filter((check) => check.outcome === 'difference');
      for (const check of [...errors, ...differences]) {
        const annotate = inputs.failOn === 'error' && check.outcome === 'difference' ? core.warning : core.error;
        annotate(secrets.scrub(`${check.name}: ${check.reason}`), {
          title: 'Migration not reversible',
          file: annotationPath(files.find((file) => file.name === check.name)?.file ?? check.name),
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

/** The settings (knexfile, inputs, defaults) and the migration files, read from working-directory. */
async function projectMigrations(inputs: VerifyReversibleInputs) {
  // As the Knex CLI runs from the project: a knexfile's dotenv and a migration's relative paths see the service.
  process.chdir(inputs.workingDirectory);
  const settings = await resolveMigrationSettings({ ...inputs, cwd: inputs.workingDirectory });
  for (const line of describeSettings(settings)) core.info(`${line.setting}: ${line.value} (${line.from})`);
  const migrationsDir = settings.directories.map((directory) => relativePath(inputs.workingDirectory, directory));
  assertDirectoriesExist(settings, inputs);
  const files = listMigrationFiles(settings.directories, settings);
  if (files.length === 0) {
    throw new ConfigurationError(
      `${settings.sources?.directories === 'input' ? 'Input "migrations-dir"' : 'The migrations directory'} ${migrationsDir.join(', ')} holds no migration files (${(settings.loadExtensions ?? ['.js', '.cjs', '.mjs', '.ts']).join(', ')}).`,
    );
  }
  return { settings, files, migrationsDir };
}

/** Annotations need the file relative to the repository root to land on the pull request's diff. */
function annotationPath(file: string): string {
  return path
    .relative(process.env.GITHUB_WORKSPACE ?? process.cwd(), file)
    .split(path.sep)
    .join('/');
}

function settingsMarkdown(settings: MigrationSettings): string {
  const rows = describeSettings(settings).map(
    (line) => `| ${line.setting} | \`${escapeHtml(line.value)}\` | ${escapeHtml(line.from) || '—'} |`,
  );
  return ['', '### Migration settings', '', '| Setting | Value | From |', '|---|---|---|', ...rows, ''].join('\n');
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
