import { fingerprintPlan, RUNTIME_VERSIONS } from './fingerprint.js';
import { describeHolder, holderChecks } from './lock.js';
import type { MigrationsTable } from './migrations-table.js';
import { buildSegments, selectMigrations, type AppliedMigration, type PlannedMigration } from './plan.js';
import { RollbackFailure, type RollbackOptions, type RunFragment } from './run-types.js';
import { MigrationTracker } from './sql-capture.js';
import { TrackingMigrationSource, type MigrationFile } from './source.js';
import type { StatusSnapshot } from './status.js';

/** A plan and the source its migrations were loaded from. */
export interface PlanOutcome {
  fragment: Required<Pick<RunFragment, 'plan' | 'segments' | 'fingerprint' | 'localCode' | 'warnings'>>;
  source: TrackingMigrationSource;
}

/** Plan without dry-run: a read-only snapshot, no locks taken, nothing changed. */
export async function planOnly(
  table: MigrationsTable,
  options: RollbackOptions,
  files: MigrationFile[],
): Promise<RunFragment> {
  await table.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const before = await table.readStatus(files);
    const { fragment } = await makePlan(before.applied, files, options).catch((error: unknown) => {
      if (error instanceof RollbackFailure) throw error.within({ before });
      throw error;
    });
    const planned = { before, after: before, ...fragment };
    return {
      ...planned,
      ...checkKnexLock(planned),
      notes: [
        'Plan only: nothing was locked or changed. With dry-run: true the downs also run, in a transaction that is rolled back.',
      ],
    };
  } finally {
    await table.rollback();
  }
}

/**
 * Knex's lock row as the real run will meet it, told before anyone approves (the pipeline's dry
 * run is on a scratch database, which has no such row). Set with no session holding it, the run
 * would be refused: the plan fails, naming the fix. Held by a running migration, it is transient:
 * a warning, since the run waits for it within lock-wait-budget.
 */
function checkKnexLock(planned: RunFragment & { before: StatusSnapshot; warnings: string[] }): RunFragment {
  const { lock } = planned.before;
  if (!lock.isLocked) return {};
  const lockChecks = [`${lock.table}: is_locked = 1`, ...holderChecks(lock.holders)];
  if (lock.holders.length > 0) {
    planned.warnings.push(
      `Knex's migration lock (${lock.table}.is_locked = 1) is held by ${lock.holders.map(describeHolder).join('; ')}: a migration is running. The rollback waits for it (within lock-wait-budget) and is refused if it is still running then; check that it has finished before approving.`,
    );
    return { lockChecks };
  }
  throw new RollbackFailure(
    `Knex's migration lock (${lock.table}.is_locked = 1) is set, but no session holds it: a crashed or killed run left it behind (Knex records no owner), and the rollback would be refused on it after approval. Nothing was changed. Check that no migration is running, then run mode: unlock with force-unlock: true against this database, and plan again.`,
    { ...planned, lockChecks },
  );
}

/** Computes the plan from rows read under the caller's snapshot; checks expected-plan and every refusal that needs no SQL run. */
export async function makePlan(
  applied: AppliedMigration[],
  files: MigrationFile[],
  options: RollbackOptions,
): Promise<PlanOutcome> {
  const { settings } = options;
  const selection = selectMigrations(
    applied,
    files.map((file) => file.name),
    options.request,
  );
  const warnings = [...selection.warnings];
  const missing = selection.rows.filter((row) => !files.some((file) => file.name === row.name));
  if (missing.length > 0) {
    throw new RollbackFailure(
      `Cannot undo ${missing.map((row) => row.name).join(', ')}: applied (in ${settings.tableName}) but no file in ${settings.directories.join(', ')}, so there is no down() to run. Restore the file(s) from the release that applied them. Nothing was changed.`,
      { warnings },
    );
  }
  const source = new TrackingMigrationSource(files, new MigrationTracker());
  const plan: PlannedMigration[] = [];
  for (const row of selection.rows) {
    const file = files.find((candidate) => candidate.name === row.name)!;
    const module = await source.getMigration(file);
    if (typeof module.down !== 'function') {
      throw new RollbackFailure(
        `Migration ${row.name} exports no down() function, so it cannot be rolled back. Nothing was changed.`,
        { warnings },
      );
    }
    const flag = (module.config as { transaction?: unknown } | undefined)?.transaction;
    plan.push({ ...row, transaction: typeof flag === 'boolean' ? flag : !settings.disableTransactions });
  }
  const fragment = {
    plan,
    segments: buildSegments(plan),
    ...fingerprintPlan(plan, files, settings),
    warnings,
  };
  checkPlan(fragment, options);
  return { fragment, source };
}

/** The refusals a plan earns before anything runs: a changed plan, or non-transactional migrations not allowed. */
function checkPlan(fragment: PlanOutcome['fragment'], options: RollbackOptions): void {
  if (options.expectedPlan && options.expectedPlan !== fragment.fingerprint) {
    throw new RollbackFailure(
      `Input "expected-plan" is ${options.expectedPlan}, but what this run would undo now has fingerprint ${fragment.fingerprint}. Since that plan was made, ${fingerprintInputs(fragment)}: the fingerprint covers all of these and, being a hash, cannot tell which; compare that plan's summary (its migrations, local code and versions) with this run's. Nothing was changed. Run mode: plan again, review it, and pass its plan-fingerprint.`,
      fragment,
    );
  }
  const outside = fragment.plan.filter((migration) => !migration.transaction);
  if (outside.length === 0 || options.allowNonAtomic) return;
  // A dry run goes on, rehearses the rest and fails at the end with every refusal at once.
  if (options.dryRun) return;
  if (options.mode !== 'plan') throw new RollbackFailure(nonAtomicRefusal(outside), fragment);
  fragment.warnings.push(nonAtomicRefusal(outside));
}

/** Everything the fingerprint covers, named: the refusal can only say "one of these". */
function fingerprintInputs({ plan, localCode }: PlanOutcome['fragment']): string {
  const names = (list: string[]) =>
    list.length > 3 ? `${list.slice(0, 3).join(', ')} and ${list.length - 3} more` : list.join(', ');
  const files = names(plan.map((migration) => migration.name));
  const local = localCode.length
    ? ` a local file they load changed (${names(localCode.map((file) => file.path))}),`
    : '';
  return `a migration was applied or rolled back, a migration file changed (${files}),${local} or Knex (now ${RUNTIME_VERSIONS.knex}) or db-rollback-actions (now ${RUNTIME_VERSIONS.action}) is another version`;
}

function nonAtomicRefusal(outside: PlannedMigration[]): string {
  return `The plan contains ${outside.map((migration) => migration.name).join(', ')}, which ${outside.length === 1 ? 'opts' : 'opt'} out of transactions (config.transaction = false, e.g. for CREATE INDEX CONCURRENTLY), so ${outside.length === 1 ? 'its' : 'their'} down() cannot run inside the rollback's transaction and the run cannot be atomic. Nothing was changed. To run it in segments (each transactional stretch atomic, each non-transactional migration alone), set allow-non-atomic: true.`;
}
