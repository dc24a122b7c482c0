import type { Knex } from 'knex';
import { formatDuration } from '../common/duration.js';
import { coverCodeLoadedByDowns } from './fingerprint.js';
import { completedBatches } from './plan.js';
import { progressTracker, migratorConfig, runDowns } from './downs.js';
import { describeFailure } from './failure.js';
import type { RunContext } from './run-context.js';
import type { PlanOutcome } from './planning.js';
import { GuardRefusal } from './guard.js';
import { asLockWait, isRetryableLockWait } from './lock-retry.js';
import { watchDowns } from './origin.js';
import { blockedOf, describeBlocked, warningsOf } from './review.js';
import {
  clockOf,
  RollbackFailure,
  type ReviewedStatement,
  type RollbackOptions,
  type RunFragment,
} from './run-types.js';
import type { PlannedMigration } from './plan.js';
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
  begun: number,
): Promise<RunFragment> {
  const { options } = context;
  const { plan } = planned.fragment;
  const outside = plan.filter((migration) => !migration.transaction);
  const warnings = outside.length > 0 ? [notRehearsed(outside.map((m) => m.name))] : [];
  const rehearsed = plan.filter((migration) => migration.transaction);
  const title = options.dryRun
    ? 'Dry run: the downs in a transaction that is rolled back'
    : 'Rolling back in one transaction';
  const fragment = await options.logger.group(title, () =>
    runInTransaction(trx, planned, context, before, { migrations: rehearsed, perMigration: outside.length > 0, begun }),
  );
  return { ...fragment, warnings: [...warnings, ...(fragment.warnings ?? [])] };
}

function notRehearsed(names: string[]): string {
  const one = names.length === 1;
  // Rehearse what can be rolled back; say plainly what was not rehearsed.
  return `Not rehearsed: ${names.join(', ')} ${one ? 'runs' : 'run'} outside a transaction (config.transaction = false), so the dry run cannot run ${one ? 'its' : 'their'} down() and roll it back; ${one ? 'it was' : 'they were'} skipped, and the SQL below does not include ${one ? 'it' : 'them'}. Review ${one ? 'its' : 'their'} down() by hand.`;
}

async function runInTransaction(
  trx: Knex.Transaction,
  planned: PlanOutcome,
  context: RunContext,
  before: StatusSnapshot,
  { migrations, perMigration, begun }: { migrations: PlannedMigration[]; perMigration: boolean; begun: number },
): Promise<RunFragment> {
  const { options, guard } = context;
  const clock = clockOf(options);
  const tracker = progressTracker(options.logger);
  const source = new TrackingMigrationSource(await planned.source.getMigrations(), tracker);
  guard.policy = { atomic: true, dryRun: options.dryRun, allowDestructive: options.allowDestructive };
  const started = clock.now();
  const names = planned.fragment.plan.map((migration) => migration.name);
  const stopWatching = watchDowns();
  options.logger.debug(`The downs start ${(started - begun).toFixed(1)} ms after BEGIN (lock row, status, plan).`);
  try {
    await runDowns(trx, migratorConfig(options, source), options, migrations, perMigration);
    await guard.settle(tracker.frames, (ms) => clock.sleep(ms));
    if (guard.refusal) throw new GuardRefusal(guard.refusal);
  } catch (error) {
    await guard.settle(tracker.frames, (ms) => clock.sleep(ms), 0);
    await abandon(trx, context);
    // A lock wait that timed out is the attempt loop's (lock-retry.ts): the whole transaction runs again.
    if (!guard.refusal) {
      const lockWait = asLockWait(guard.lockWait ?? error, guard.failed()?.sql);
      if (isRetryableLockWait(lockWait)) throw lockWait;
    }
    const message = guard.refusal
      ? `${guard.refusal}\n${stateAfterRefusal(options.dryRun, names, options.settings.tableName)}`
      : describeFailure(error, tracker, guard, names, options);
    throw new RollbackFailure(message, { statements: [...guard.statements], warnings: warningsOf(guard.statements) });
  } finally {
    stopWatching();
  }
  const covered = coverCodeLoadedByDowns(
    planned.fragment,
    await planned.source.getMigrations(),
    options.settings,
    options.dryRun,
  );
  const statements = [...guard.statements];
  const warnings = [...warningsOf(statements), ...(covered.warnings ?? [])];
  if (options.dryRun) {
    await abandon(trx, context);
    logLockHold(options, clock.now() - begun, 'ROLLBACK');
    const notes = [...(covered.notes ?? []), ...dryRunNotes(statements, clock.now() - started, options.lockTimeoutMs)];
    const refusals = dryRunRefusals(statements, planned.fragment.plan, options);
    if (refusals) throw new RollbackFailure(refusals, { statements, warnings, notes });
    return { statements, warnings, notes, fingerprint: covered.fingerprint, localCode: covered.localCode };
  }
  await trx.commit();
  logLockHold(options, clock.now() - begun, 'COMMIT');
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

function dryRunNotes(statements: ReviewedStatement[], elapsedMs: number, lockTimeoutMs: number): string[] {
  const notes = [
    `Dry run: the downs ran in a transaction that was rolled back after ${formatDuration(elapsedMs)}; nothing was changed. While it lasted it held the same locks as a real run (the advisory lock and Knex's lock row, and whatever the downs lock), each wait bounded by lock-timeout (${formatDuration(lockTimeoutMs)}).`,
  ];
  const notSent = statements.filter((statement) => statement.outcome === 'would run').length;
  if (notSent > 0)
    notes.push(
      `${notSent} statement(s) were not sent, because a ROLLBACK would not undo them (sequence changes, calls whose effect cannot be checked, COPY ... PROGRAM, LOAD): they are marked "would run".`,
    );
  return notes;
}

/** How many refused statements the message lists; the summary and sql-file list them all. */
const LISTED = 20;

/**
 * A dry run is the real run minus COMMIT: every refusal the real run would meet with these
 * inputs fails it too, after its ROLLBACK, naming each input and every statement concerned.
 */
export function dryRunRefusals(
  statements: ReviewedStatement[],
  plan: PlannedMigration[],
  options: Pick<RollbackOptions, 'allowDestructive' | 'allowNonAtomic'>,
): string | undefined {
  const reasons: string[] = [];
  const outside = plan.filter((migration) => !migration.transaction).map((migration) => migration.name);
  if (outside.length > 0 && !options.allowNonAtomic) {
    reasons.push(
      `allow-non-atomic is false, and ${outside.join(', ')} ${outside.length === 1 ? 'opts' : 'opt'} out of transactions (config.transaction = false), so the real run would refuse the plan: with allow-non-atomic: true it runs in segments, each non-transactional migration alone (the dry run cannot rehearse ${outside.length === 1 ? 'it' : 'them'}).`,
    );
  }
  const blocked = blockedOf(statements);
  if (blocked.length > 0 && !options.allowDestructive) {
    const more =
      blocked.length > LISTED ? `\n- … ${blocked.length - LISTED} more (all in the summary and in sql-file)` : '';
    reasons.push(
      `allow-destructive is false, and ${blocked.length} statement(s) destroy data or remove security, so the real run would refuse them. Review them, then re-dispatch with allow-destructive: true:\n${blocked
        .slice(0, LISTED)
        .map((statement) => `- ${describeBlocked(statement)}`)
        .join('\n')}${more}`,
    );
  }
  if (reasons.length === 0) return undefined;
  return `Dry run failed: the real run with these inputs would be refused. The dry run was rolled back; nothing was changed.\n${reasons.map((reason, index) => `${index + 1}. ${reason}`).join('\n')}`;
}

/** The time the run's transaction held its locks; bench/rollback.ts reads this line. */
function logLockHold(options: RollbackOptions, ms: number, end: 'COMMIT' | 'ROLLBACK'): void {
  options.logger.info(`Lock-hold: ${ms.toFixed(1)} ms from BEGIN to ${end}.`);
}
