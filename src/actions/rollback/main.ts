import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatDuration } from '../../common/duration.js';
import { describeDatabaseUrl } from '../../postgres/url.js';
import { formatSize } from '../../preserve/size.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { describeSettings, resolveMigrationSettings, type MigrationSettings } from '../../migrations/knexfile.js';
import { describeHolder } from '../../migrations/lock.js';
import { describeRequest } from '../../migrations/plan.js';
import { renderSql, renderSqlCapped, renderSummary } from '../../migrations/report.js';
import { RollbackFailure, runRollback, type RollbackResult } from '../../migrations/rollback.js';
import { DATA_MODES, PRESERVE_MODES } from '../../migrations/run-types.js';
import { classifyEach, classifyStatements, warmUpClassifier } from '../../sql/classify.js';
import { defineAction, type Runtime } from '../common/action.js';
import { destroyingStatementsJson } from '../../preserve/estimate.js';
import { preservedOutput } from '../../preserve/report.js';
import { resolveDatabase } from '../common/database.js';
import { inputs, rollbackInputs, type RollbackInputs } from './inputs.js';

type Output =
  | 'applied'
  | 'pending'
  | 'plan'
  | 'plan-fingerprint'
  | 'rolled-back'
  | 'sql'
  | 'sql-file'
  | 'batches'
  | 'preserve-id'
  | 'preserved'
  | 'preserve-statements-file'
  | 'restored'
  | 'database';

export const action = defineAction({
  name: 'rollback',
  inputs,
  outputs: {
    applied: '[]',
    pending: '[]',
    plan: '[]',
    'plan-fingerprint': '',
    'rolled-back': '[]',
    sql: '',
    'sql-file': '',
    batches: '[]',
    'preserve-id': '',
    preserved: '[]',
    'preserve-statements-file': '',
    restored: '[]',
    database: '',
  },
  async run(given, runtime) {
    const { logger } = runtime;
    // host:port/database, never user-info or parameters: the pipeline's decision summary and record name the target with it.
    runtime.setOutput('database', describeDatabaseUrl(given.databaseUrl));
    // Outputs and the summary come from what was done, on every path, failures included.
    let result: RollbackResult | undefined;
    let options: RollbackInputs | undefined;
    let settings: MigrationSettings | undefined;
    try {
      options = rollbackInputs(given, resolveDatabase(given, runtime));
      const asked = options;
      // The project's directory, as the Knex CLI runs from it: a knexfile's dotenv, a migration's
      // relative path and its require('uuid') all see the service's own tree.
      process.chdir(asked.workingDirectory);
      logger.info(`Database: ${describeDatabaseUrl(asked.databaseUrl)}`);
      settings = await logger.group('Migrations settings', async () => {
        const resolved = await resolveMigrationSettings({
          knexfile: asked.knexfile,
          knexEnvironment: asked.knexEnvironment,
          knexfileEnv: asked.knexfileEnv,
          migrationsDir: asked.migrationsDir,
          migrationsTable: asked.migrationsTable,
          schema: asked.schema,
          cwd: asked.workingDirectory,
        });
        for (const line of describeSettings(resolved)) logger.info(`${line.setting}: ${line.value} (${line.from})`);
        return resolved;
      });
      // The parser starts while the database work runs, instead of after it.
      if (options.mode === 'rollback' || options.mode === 'down' || options.dryRun) warmUpClassifier();
      result = await runRollback({
        ...options,
        settings,
        applicationName: applicationName(),
        classify: classifyStatements,
        classifyEach,
        logger,
        clock: runtime.clock,
        onCleanup: runtime.onCleanup,
      });
      if (result.mode === 'status' || result.mode === 'unlock') logStatus(logger, result);
      report(runtime, result, options, { ok: true }, settings);
    } catch (error) {
      if (error instanceof RollbackFailure) result = error.result;
      report(runtime, result, options, { ok: false, message: errorMessage(error) }, settings);
      throw error;
    }
  },
});

/** Status in the log too: the on-call engineer reads the log before the summary. */
function logStatus(logger: Logger, result: RollbackResult): void {
  const snapshot = result.after ?? result.before;
  if (!snapshot) return;
  for (const row of snapshot.applied) logger.info(`applied  ${row.name}  batch ${row.batch}  at ${row.migrationTime}`);
  for (const name of snapshot.pending) logger.info(`pending  ${name}`);
  for (const name of snapshot.missingFiles)
    logger.warning(
      `${name} is applied but its file is missing from the migrations directory: it cannot be rolled back from this checkout.`,
    );
  const { lock } = snapshot;
  logger.info(
    `lock: ${lock.table} ${lock.tableExists ? `is_locked = ${lock.isLocked ? 1 : 0}` : 'does not exist'}; holders: ${lock.holders.map(describeHolder).join('; ') || 'none'}`,
  );
  for (const line of result.lockChecks) logger.info(`checked: ${line}`);
  for (const note of result.notes) logger.info(note);
}

/** Who we are in pg_stat_activity, so a blocked run (or a DBA) can tell which workflow run holds the lock. */
function applicationName(): string {
  const run = process.env.GITHUB_RUN_ID ? ` run ${process.env.GITHUB_RUN_ID}` : '';
  const repository = process.env.GITHUB_REPOSITORY ? ` ${process.env.GITHUB_REPOSITORY}` : '';
  return `db-rollback-actions/rollback${run}${repository}`.slice(0, 63);
}

function report(
  { setOutput, logger, summary, secrets }: Runtime<Output>,
  result: RollbackResult | undefined,
  inputs: RollbackInputs | undefined,
  outcome: { ok: boolean; message?: string },
  settings: MigrationSettings | undefined,
): void {
  const snapshot = result?.after ?? result?.before;
  setOutput('applied', JSON.stringify(snapshot?.applied.map((row) => row.name) ?? []));
  setOutput('pending', JSON.stringify(snapshot?.pending ?? []));
  setOutput(
    'plan',
    JSON.stringify(
      result?.plan.map((migration) => ({
        name: migration.name,
        batch: migration.batch,
        transaction: migration.transaction,
      })) ?? [],
    ),
  );
  setOutput('plan-fingerprint', result?.fingerprint ?? '');
  setOutput('rolled-back', JSON.stringify(result?.rolledBack ?? []));
  setOutput('sql', result ? renderSqlCapped(result.statements) : '');
  setOutput(
    'sql-file',
    result?.statements.length ? writeRunFile('sql', renderSql(result.statements), secrets.scrub, logger) : '',
  );
  // A dry run's destroying statements, for mode estimate-data on production (the pipeline's plan job).
  const destroying = result?.dryRun ? result.preservation?.kept?.statements : undefined;
  setOutput(
    'preserve-statements-file',
    destroying?.length ? writeRunFile('json', destroyingStatementsJson(destroying), secrets.scrub, logger) : '',
  );
  setOutput('batches', JSON.stringify(result?.batches ?? []));
  setPreservationOutputs(setOutput, result);
  // Warnings as annotations, so they show on the run page without opening the log.
  for (const warning of result?.warnings ?? []) logger.warning(warning);
  // renderSummary (src/migrations/report.ts) builds Markdown and escapes the table cells it fills.
  summary.markdown(renderSummary(result, asked(inputs), outcome, settings));
}

function setPreservationOutputs(setOutput: Runtime<Output>['setOutput'], result: RollbackResult | undefined): void {
  const { kept, restored } = result?.preservation ?? {};
  const made = kept?.copies.some((copy) => !copy.estimated);
  setOutput('preserve-id', made ? kept!.id : (restored?.id ?? ''));
  setOutput('preserved', preservedOutput(result?.preservation));
  setOutput('restored', JSON.stringify(restored?.copies ?? []));
}

function asked(inputs: RollbackInputs | undefined): string {
  if (!inputs) return 'the inputs could not be read (see the error).';
  const flags = [
    inputs.dryRun && 'dry-run',
    inputs.allowDestructive && 'allow-destructive',
    inputs.allowNonAtomic && 'allow-non-atomic',
    inputs.forceUnlock && 'force-unlock',
    PRESERVE_MODES.includes(inputs.mode) &&
      (inputs.preserve.enabled
        ? `preserve-data up to ${formatSize(inputs.preserve.maxBytes)}`
        : 'preserve-data: false'),
    inputs.preserve.id && `preserve-id ${inputs.preserve.id}`,
    inputs.destroyingStatements &&
      `preserve-statements-file: ${inputs.destroyingStatements.length} destroying statement(s) of a dry run`,
    inputs.expectedPlan && `expected-plan ${inputs.expectedPlan.slice(0, 12)}…`,
  ].filter(Boolean);
  const what = ['status', 'unlock', ...DATA_MODES].includes(inputs.mode) ? '' : ` — ${describeRequest(inputs.request)}`;
  return `database \`${describeDatabaseUrl(inputs.databaseUrl)}\`; mode \`${inputs.mode}\`${what}${flags.length ? ` (${flags.join(', ')})` : ''}; lock-timeout ${formatDuration(inputs.lockTimeoutMs)}, lock-wait-budget ${formatDuration(inputs.lockWaitBudgetMs)}, session-idle-timeout ${formatDuration(inputs.sessionIdleTimeoutMs)}, statement-timeout ${formatDuration(inputs.statementTimeoutMs)}.`;
}

/**
 * A file under RUNNER_TEMP: the complete SQL (the sql output and the summary are capped, and say
 * "the rest is in the record"; the workflow uploads it with the record), or a dry run's destroying
 * statements. Scrubbed like every output. A file that cannot be written costs the file, not the
 * run's outcome.
 */
function writeRunFile(
  extension: 'sql' | 'json',
  text: string,
  scrub: (text: string) => string,
  logger: Logger,
): string {
  const what = extension === 'sql' ? 'sql' : 'destroying-statements';
  const file = path.join(
    process.env.RUNNER_TEMP || os.tmpdir(),
    `rollback-${what}-${process.env.GITHUB_RUN_ID ?? 'local'}-${crypto.randomBytes(4).toString('hex')}.${extension}`,
  );
  try {
    fs.writeFileSync(file, `${scrub(text)}\n`, { encoding: 'utf8', mode: 0o600 });
    return file;
  } catch (error) {
    logger.warning(
      `The ${extension === 'sql' ? 'complete SQL' : 'destroying statements'} were not written to ${file}: ${errorMessage(error)}`,
    );
    return '';
  }
}
