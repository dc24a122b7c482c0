import * as core from '@actions/core';
import { formatDuration } from '../../common/duration.js';
import { errorMessage } from '../../common/errors.js';
import { describeSettings, resolveMigrationSettings, type MigrationSettings } from '../../migrations/knexfile.js';
import { describeHolder } from '../../migrations/lock.js';
import { describeRequest } from '../../migrations/plan.js';
import { renderSql, renderSummary } from '../../migrations/report.js';
import { RollbackFailure, runRollback, type Logger, type RollbackResult } from '../../migrations/rollback.js';
import { classifyEach, classifyStatements, warmUpClassifier } from '../../sql/classify.js';
import { runAction, type SecretRegistry } from '../common/run.js';
import { Outputs } from './constants.js';
import { getInputs, type RollbackInputs } from './inputs.js';

const logger: Logger = {
  info: (message) => core.info(message),
  warning: (message) => core.warning(message),
  debug: (message) => core.debug(message),
  group: (name, body) => core.group(name, body),
};

export async function run(): Promise<void> {
  await runAction(async (secrets) => {
    // Outputs are set on every path, failures included, so later steps can always read them.
    let result: RollbackResult | undefined;
    let inputs: RollbackInputs | undefined;
    let settings: MigrationSettings | undefined;
    try {
      inputs = getInputs(secrets);
      const given = inputs;
      // The project's directory, as the Knex CLI runs from it: a knexfile's dotenv, a migration's
      // relative path and its require('uuid') all see the service's own tree.
      process.chdir(given.workingDirectory);
      settings = await core.group('Migrations settings', async () => {
        const resolved = await resolveMigrationSettings({
          knexfile: given.knexfile,
          knexEnvironment: given.knexEnvironment,
          migrationsDir: given.migrationsDir,
          migrationsTable: given.migrationsTable,
          schema: given.schema,
          cwd: given.workingDirectory,
        });
        for (const line of describeSettings(resolved)) core.info(`${line.setting}: ${line.value} (${line.from})`);
        return resolved;
      });
      // The parser starts while the database work runs, instead of after it.
      if (inputs.mode === 'rollback' || inputs.mode === 'down' || inputs.dryRun) warmUpClassifier();
      result = await runRollback({
        databaseUrl: inputs.databaseUrl,
        settings,
        mode: inputs.mode,
        request: inputs.request,
        dryRun: inputs.dryRun,
        allowDestructive: inputs.allowDestructive,
        allowNonAtomic: inputs.allowNonAtomic,
        expectedPlan: inputs.expectedPlan,
        lockTimeoutMs: inputs.lockTimeoutMs,
        statementTimeoutMs: inputs.statementTimeoutMs,
        forceUnlock: inputs.forceUnlock,
        applicationName: applicationName(),
        classify: classifyStatements,
        classifyEach,
        logger,
      });
      if (result.mode === 'status' || result.mode === 'unlock') logStatus(result);
      await report(result, inputs, secrets, { ok: true }, settings);
    } catch (error) {
      if (error instanceof RollbackFailure) result = error.result;
      await report(result, inputs, secrets, { ok: false, message: errorMessage(error) }, settings);
      throw error;
    }
  });
}

/** Status in the log too: the on-call engineer reads the log before the summary. */
function logStatus(result: RollbackResult): void {
  const snapshot = result.after ?? result.before;
  if (!snapshot) return;
  for (const row of snapshot.applied) core.info(`applied  ${row.name}  batch ${row.batch}  at ${row.migrationTime}`);
  for (const name of snapshot.pending) core.info(`pending  ${name}`);
  for (const name of snapshot.missingFiles)
    core.warning(
      `${name} is applied but its file is missing from the migrations directory: it cannot be rolled back from this checkout.`,
    );
  const { lock } = snapshot;
  core.info(
    `lock: ${lock.table} ${lock.tableExists ? `is_locked = ${lock.isLocked ? 1 : 0}` : 'does not exist'}; holders: ${lock.holders.map(describeHolder).join('; ') || 'none'}`,
  );
  for (const line of result.lockChecks) core.info(`checked: ${line}`);
  for (const note of result.notes) core.info(note);
}

/** Who we are in pg_stat_activity, so a blocked run (or a DBA) can tell which workflow run holds the lock. */
function applicationName(): string {
  const run = process.env.GITHUB_RUN_ID ? ` run ${process.env.GITHUB_RUN_ID}` : '';
  const repository = process.env.GITHUB_REPOSITORY ? ` ${process.env.GITHUB_REPOSITORY}` : '';
  return `db-rollback-actions/rollback${run}${repository}`.slice(0, 63);
}

async function report(
  result: RollbackResult | undefined,
  inputs: RollbackInputs | undefined,
  secrets: SecretRegistry,
  outcome: { ok: boolean; message?: string },
  settings: MigrationSettings | undefined,
): Promise<void> {
  const snapshot = result?.after ?? result?.before;
  const outputs: Record<Outputs, string> = {
    [Outputs.Applied]: JSON.stringify(snapshot?.applied.map((row) => row.name) ?? []),
    [Outputs.Pending]: JSON.stringify(snapshot?.pending ?? []),
    [Outputs.Plan]: JSON.stringify(
      result?.plan.map((migration) => ({
        name: migration.name,
        batch: migration.batch,
        transaction: migration.transaction,
      })) ?? [],
    ),
    [Outputs.PlanFingerprint]: result?.fingerprint ?? '',
    [Outputs.RolledBack]: JSON.stringify(result?.rolledBack ?? []),
    [Outputs.Sql]: result ? renderSql(result.statements) : '',
    [Outputs.Batches]: JSON.stringify(result?.batches ?? []),
  };
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, secrets.scrub(value));
  // Warnings as annotations, so they show on the run page without opening the log.
  for (const warning of result?.warnings ?? []) core.warning(secrets.scrub(warning));
  const summary = renderSummary(
    result,
    asked(inputs),
    { ok: outcome.ok, message: outcome.message === undefined ? undefined : secrets.scrub(outcome.message) },
    settings,
  );
  // A summary that cannot be written (no GITHUB_STEP_SUMMARY, e.g. run by hand) must not hide the real outcome.
  try {
    await core.summary.addRaw(secrets.scrub(summary)).write();
  } catch (error) {
    core.debug(`job summary not written: ${errorMessage(error)}`);
  }
}

function asked(inputs: RollbackInputs | undefined): string {
  if (!inputs) return 'the inputs could not be read (see the error).';
  const flags = [
    inputs.dryRun && 'dry-run',
    inputs.allowDestructive && 'allow-destructive',
    inputs.allowNonAtomic && 'allow-non-atomic',
    inputs.forceUnlock && 'force-unlock',
    inputs.expectedPlan && `expected-plan ${inputs.expectedPlan.slice(0, 12)}…`,
  ].filter(Boolean);
  const what = inputs.mode === 'status' || inputs.mode === 'unlock' ? '' : ` — ${describeRequest(inputs.request)}`;
  return `mode \`${inputs.mode}\`${what}${flags.length ? ` (${flags.join(', ')})` : ''}; lock-timeout ${formatDuration(inputs.lockTimeoutMs)}, statement-timeout ${formatDuration(inputs.statementTimeoutMs)}.`;
}
