import { describeDatabaseUrl } from '../../postgres/url.js';
import os from 'node:os';
import path from 'node:path';
import { ConfigurationError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import {
  assertDirectoriesExist,
  describeSettings,
  relativePath,
  resolveMigrationSettings,
  settingsTable,
} from '../../migrations/knexfile.js';
import { listMigrationFiles } from '../../migrations/source.js';
import { checkReversibility, type CheckResult } from '../../reversibility/checker.js';
import { buildReport, summaryMarkdown, writeReport, type ReversibilityReport } from '../../reversibility/report.js';
import type { RegisterCleanup } from '../../common/shutdown.js';
import { defineAction } from '../common/action.js';
import { resolveDatabase } from '../common/database.js';
import type { ParsedInputs } from '../common/inputs.js';
import { inputs } from './inputs.js';
import { judge } from './verdict.js';

const reportFile = () => path.join(process.env.RUNNER_TEMP ?? os.tmpdir(), 'verify-reversible-report.json');

/**
 * Runs every migration up, down and up again on a scratch database and reports each
 * down() that does not undo its up(), and each one that touches data it should not.
 * Fails the step according to `fail-on`.
 */
export const action = defineAction({
  name: 'verify-reversible',
  inputs,
  outputs: {
    checked: '0',
    irreversible: '[]',
    warnings: '[]',
    // The report file always exists, also when the inputs are refused.
    report: () => {
      writeReport(reportFile(), emptyReport());
      return reportFile();
    },
  },
  async run(given, runtime) {
    const { logger, summary } = runtime;
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
      const { settings, files, migrationsDir } = await projectMigrations(given, logger);
      // The schema compared is the input's; the knexfile's schemaName is where Knex keeps its table.
      const schema = given.schema ?? 'public';
      const result = await logger.group(
        `Checking ${given.only.length || files.length} migration(s): up, down, up, in scratch databases on ${describeDatabaseUrl(given.databaseUrl)}`,
        () =>
          cancellable(runtime.onCleanup, (signal) =>
            checkReversibility({
              serverUrl: databaseUrl,
              security: { sslCa: security.sslCa },
              files,
              only: given.only,
              migrationsTable: settings.tableName,
              schema,
              schemaName: settings.schemaName,
              disableTransactions: settings.disableTransactions,
              logger,
              signal,
            }),
          ),
      );

      const report = buildReport(result);
      writeReport(reportFile(), report);
      runtime.setOutput('checked', String(report.checked));
      runtime.setOutput('irreversible', JSON.stringify(report.irreversible));
      runtime.setOutput('warnings', JSON.stringify(report.warnings));
      summary.markdown(
        [
          summaryMarkdown(report, { migrationsDir: migrationsDir.join(', '), schema }),
          '',
          `Server: \`${describeDatabaseUrl(given.databaseUrl)}\` (each check in a scratch database of its own, dropped afterwards).`,
          '',
          ...settingsTable(settings),
        ].join('\n'),
      );

      const verdict = judge(result.checks, given.failOn);
      for (const { check, level, title, message } of verdict.annotations) {
        runtime.annotate(level, `${check.name}: ${message}`, {
          title,
          file: annotationPath(files.find((file) => file.name === check.name)?.file ?? check.name),
        });
      }
      if (verdict.failing.length) {
        throw new ConfigurationError(
          `${verdict.failing.length} of ${report.checked} migration(s) cannot be rolled back cleanly: ${verdict.failing.map((check) => check.name).join(', ')}. ` +
            `Fix their down() so it undoes exactly what up() does (see the job summary for each difference${given.failOn === 'warning' ? ' and warning' : ''}).`,
        );
      }
      logger.info(`All ${report.checked} checked migration(s) are reversible${verdict.tolerated}.`);
    } finally {
      process.off('unhandledRejection', onStrayRejection);
    }
  },
});

/**
 * Runs the check so that a cancelled run (SIGINT, then SIGTERM) first stops it starting
 * anything new, then waits while it drops every scratch database it created (ending a
 * down() still running on one); the runtime exits once that cleanup resolves.
 */
async function cancellable(
  onCleanup: RegisterCleanup,
  check: (signal: AbortSignal) => Promise<CheckResult>,
): Promise<CheckResult> {
  const controller = new AbortController();
  const running = check(controller.signal);
  const done = onCleanup('starting no more checks, dropping the scratch database(s)', async () => {
    controller.abort('the run was cancelled');
    await running.catch(() => undefined);
  });
  try {
    return await running;
  } finally {
    done();
  }
}

/** The settings (knexfile, inputs, defaults) and the migration files, read from working-directory. */
async function projectMigrations(given: ParsedInputs<typeof inputs>, logger: Logger) {
  // As the Knex CLI runs from the project: a knexfile's dotenv and a migration's relative paths see the service.
  process.chdir(given.workingDirectory);
  const { knexfile, knexEnvironment, knexfileEnv, migrationsDir: dir, migrationsTable } = given;
  const settings = await resolveMigrationSettings({
    knexfile,
    knexEnvironment,
    knexfileEnv,
    migrationsDir: dir,
    migrationsTable,
    cwd: given.workingDirectory,
  });
  for (const line of describeSettings(settings)) logger.info(`${line.setting}: ${line.value} (${line.from})`);
  const migrationsDir = settings.directories.map((directory) => relativePath(given.workingDirectory, directory));
  assertDirectoriesExist(settings, given);
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

function emptyReport(): ReversibilityReport {
  return {
    checked: 0,
    exact: [],
    irreversible: [],
    warnings: [],
    appliedUnchecked: [],
    notReached: [],
    migrations: [],
    rebuilds: 0,
    durationMs: 0,
  };
}
