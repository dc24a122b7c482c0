import type { Knex } from 'knex';
import { formatDuration } from '../common/duration.js';
import { completedBatches } from './plan.js';
import { progressTracker, migratorConfig, runDowns } from './downs.js';
import { describeFailure } from './failure.js';
import type { RunContext } from './run-context.js';
import type { PlanOutcome } from './planning.js';
import { GuardRefusal } from './guard.js';
import { asLockWait, isRetryableLockWait } from './lock-retry.js';
import { watchDowns } from './origin.js';
import { blockedOf, warningsOf } from './review.js';
import { clockOf, RollbackFailure, type RunFragment } from './run-types.js';
import { TrackingMigrationSource } from './source.js';
import type { StatusSnapshot } from './status.js';

/**
 * All downs and their bookkeeping in the one transaction: committed together or not at all.
 * A dry run does the same and always rolls back; it leaves out (and says so) migrations
 * that cannot run inside a transaction.
 */
export async function runAtomic(
  trx: Knex.Transaction,
  planned: PlanOutcome,
  context: RunContext,
  before: StatusSnapshot,
): Promise<RunFragment> {
  const { options } = context;
  const { plan } = planned.fragment;
  const outside = plan.filter((migration) => !migration.transaction);
  const warnings =
    outside.length > 0
      ? [
          notRehearsed(
            outside.map((m) => m.name),
            options.allowNonAtomic,
          ),
        ]
      : [];
  const rehearsed = plan.filter((migration) => migration.transaction);
  const title = options.dryRun
    ? 'Dry run: the downs in a transaction that is rolled back'
    : 'Rolling back in one transaction';
  const fragment = await options.logger.group(title, () =>
    runInTransaction(trx, planned, context, before, rehearsed, outside.length > 0),
  );
  return { ...fragment, warnings: [...warnings, ...(fragment.warnings ?? [])] };
}

function notRehearsed(names: string[], allowNonAtomic: boolean): string {
  const one = names.length === 1;
  if (!allowNonAtomic) {
    throw new RollbackFailure(
      `A dry run executes the downs inside a transaction that is rolled back, and ${names.join(', ')} cannot run inside a transaction. Nothing was changed. With allow-non-atomic: true the dry run rehearses the other migrations and leaves ${one ? 'it' : 'them'} out.`,
    );
  }
  // Rehearse what can be rolled back; say plainly what was not rehearsed.
  return `Not rehearsed: ${names.join(', ')} ${one ? 'runs' : 'run'} outside a transaction (config.transaction = false), so the dry run cannot run ${one ? 'its' : 'their'} down() and roll it back; ${one ? 'it was' : 'they were'} skipped, and the SQL below does not include ${one ? 'it' : 'them'}. Review ${one ? 'its' : 'their'} down() by hand.`;
}

async function runInTransaction(
  trx: Knex.Transaction,
  planned: PlanOutcome,
  context: RunContext,
  before: StatusSnapshot,
  migrations: PlanOutcome['fragment']['plan'],
  perMigration: boolean,
): Promise<RunFragment> {
  const { options, guard } = context;
  const clock = clockOf(options);
  const tracker = progressTracker(options.logger);
  const source = new TrackingMigrationSource(await planned.source.getMigrations(), tracker);
  guard.policy = { atomic: true, dryRun: options.dryRun, allowDestructive: options.allowDestructive };
  const started = clock.now();
  const names = planned.fragment.plan.map((migration) => migration.name);
  const stopWatching = watchDowns();
  try {
    await runDowns(trx, migratorConfig(options, source), options, migrations, perMigration);
    await guard.settle(tracker.frames, (ms) => clock.sleep(ms));
    if (guard.refusal) throw new GuardRefusal(guard.refusal);
  } catch (error) {
    await guard.settle(tracker.frames, (ms) => clock.sleep(ms), 0);
    await abandon(trx, context);
    // A lock wait that timed out is the attempt loop's (lock-retry.ts): the whole transaction runs again.
    if (!guard.refusal) {
      const lockWait = asLockWait(error, guard.failed()?.sql);
      if (isRetryableLockWait(lockWait)) throw lockWait;
    }
    const message = guard.refusal
      ? `${guard.refusal}\n${stateAfterRefusal(options.dryRun, names, options.settings.tableName)}`
      : describeFailure(error, tracker, guard, names, options);
    throw new RollbackFailure(message, { statements: [...guard.statements], warnings: warningsOf(guard.statements) });
  } finally {
    stopWatching();
  }
  const statements = [...guard.statements];
  const blocked = blockedOf(statements);
  const warnings = warningsOf(statements);
  if (options.dryRun) {
    await abandon(trx, context);
    if (blocked.length > 0 && !options.allowDestructive) {
      warnings.push(
        `A real run would be refused without allow-destructive: true: ${blocked.length} statement(s) destroy data or remove security (listed under "Statements that destroy data or remove security").`,
      );
    }
    const notes = [
      `Dry run: the downs ran in a transaction that was rolled back after ${formatDuration(clock.now() - started)}; nothing was changed. While it lasted it held the same locks as a real run (the advisory lock and Knex's lock row, and whatever the downs lock), each wait bounded by lock-timeout (${formatDuration(options.lockTimeoutMs)}).`,
    ];
    const notSent = statements.filter((statement) => statement.outcome === 'would run').length;
    if (notSent > 0)
      notes.push(
        `${notSent} statement(s) were not sent, because a ROLLBACK would not undo them (sequence changes, calls whose effect cannot be checked, COPY ... PROGRAM, LOAD): they are marked "would run".`,
      );
    return { statements, warnings, notes };
  }
  await trx.commit();
  context.committed.push(...names);
  options.logger.info(`Committed: ${names.length} migration(s) undone in ${formatDuration(clock.now() - started)}.`);
  return {
    statements,
    warnings,
    committed: true,
    rolledBack: names,
    batches: completedBatches(planned.fragment.plan, names, before.applied),
  };
}

/** Rolls the run's transaction back, also when migration code made Knex think it had ended. */
async function abandon(trx: Knex.Transaction, context: RunContext): Promise<void> {
  if (!trx.isCompleted()) await trx.rollback().catch(() => undefined);
  // Our own statement on the session: harmless when no transaction is open.
  await context.table.rollback();
}

function stateAfterRefusal(dryRun: boolean, planned: string[], tableName: string): string {
  return dryRun
    ? 'This was a dry run: nothing was changed.'
    : `Nothing was changed: the transaction was rolled back, so ${planned.join(', ')} ${planned.length === 1 ? 'is' : 'are'} still applied and ${tableName} is as it was.`;
}
