import type { Knex } from 'knex';
import { progressTracker, migratorConfig, runDowns } from './downs.js';
import { lockKnexRow, type RunContext } from './run-context.js';
import { completedBatches, type AppliedMigration, type PlannedMigration, type Segment } from './plan.js';
import type { PlanOutcome } from './planning.js';
import type { StatementRecord } from './failure.js';
import { GuardRefusal } from './guard.js';
import { asLockWait, isRetryableLockWait } from './lock-retry.js';
import { watchDowns } from './origin.js';
import { oneLine, warningsOf } from './review.js';
import {
  clockOf,
  RollbackFailure,
  type ReviewedStatement,
  type RollbackOptions,
  type RunFragment,
} from './run-types.js';
import { serverMessage, type MigrationTracker } from './sql-capture.js';
import { TrackingMigrationSource } from './source.js';
import type { StatusSnapshot } from './status.js';

/** What one segment did, for the next and for the report. */
interface SegmentRun {
  context: RunContext;
  config: Knex.MigratorConfig;
  tracker: MigrationTracker;
  planned: PlannedMigration[];
  /** Statements reviewed so far, over all segments. */
  statements: ReviewedStatement[];
  warnings: string[];
}

/**
 * allow-non-atomic: each transactional stretch in its own transaction (atomic, guarded like
 * the atomic run), each non-transactional migration alone through Knex's Migrator outside a
 * transaction. The dedicated session keeps the advisory lock across all of them.
 */
export async function runSegments(
  context: RunContext,
  planned: PlanOutcome,
  before: StatusSnapshot,
): Promise<RunFragment> {
  const { options } = context;
  const { plan } = planned.fragment;
  const tracker = progressTracker(options.logger);
  const source = new TrackingMigrationSource(await planned.source.getMigrations(), tracker);
  const run: Omit<SegmentRun, 'planned'> = {
    context,
    config: migratorConfig(options, source),
    tracker,
    statements: [],
    warnings: [],
  };
  const undone: string[] = [];
  const stopWatching = watchDowns();
  try {
    await runEach(run, planned, before, undone);
  } finally {
    stopWatching();
  }
  return {
    statements: run.statements,
    warnings: [...run.warnings, ...warningsOf(run.statements)],
    committed: true,
    rolledBack: undone,
    batches: completedBatches(plan, undone, before.applied),
  };
}

async function runEach(
  run: Omit<SegmentRun, 'planned'>,
  planned: PlanOutcome,
  before: StatusSnapshot,
  undone: string[],
): Promise<void> {
  const { options } = run.context;
  const { plan, segments } = planned.fragment;
  for (const [index, segment] of segments.entries()) {
    if (run.context.attempts.isCancelled) {
      throw new RollbackFailure(
        `Cancelled before segment ${index + 1} of ${segments.length}. Undone and committed: ${undone.length ? undone.join(', ') : '(none)'}.`,
        { statements: run.statements, rolledBack: [...undone] },
      );
    }
    options.logger.info(
      `segment ${index + 1} of ${segments.length} (${segment.transactional ? 'one transaction' : 'outside a transaction'}): ${segment.migrations.join(', ')}`,
    );
    const step = { ...run, planned: plan.filter((migration) => segment.migrations.includes(migration.name)) };
    try {
      await (segment.transactional ? transactionalSegment(step) : outsideSegment(step));
    } catch (error) {
      if (error instanceof RollbackFailure) {
        // The budget spent on this segment, or a refusal: what the earlier segments committed stays committed.
        const state = `Segment ${index + 1} of ${segments.length} was rolled back. Undone and committed before it: ${undone.length ? undone.join(', ') : '(none)'}.`;
        error.message = undone.length ? `${error.message} ${state}` : error.message;
        throw error.within({ statements: run.statements, rolledBack: [...undone] });
      }
      const message = segmentFailure(error, step, { index, segments, plan, undone, before });
      throw new RollbackFailure(message, {
        statements: run.statements,
        rolledBack: [...undone],
        warnings: run.warnings,
      });
    }
    undone.push(...segment.migrations);
    run.context.committed.push(...segment.migrations);
  }
}

/**
 * A stretch of transactional migrations in a transaction of its own, guarded like the atomic run,
 * retried like it when a lock wait times out.
 */
function transactionalSegment(step: SegmentRun): Promise<void> {
  const { context } = step;
  return context.attempts.run(`Segment ${step.planned.map((m) => m.name).join(', ')}`, (attempt) =>
    segmentAttempt(step, attempt.lockTimeoutMs),
  );
}

async function segmentAttempt(step: SegmentRun, lockTimeoutMs: number): Promise<void> {
  const { context, planned } = step;
  const { knex, table, options, guard } = context;
  guard.policy = { atomic: true, dryRun: false, allowDestructive: options.allowDestructive };
  const from = guard.statements.length;
  guard.lockWait = undefined;
  let retried = false;
  const trx = await knex.transaction(undefined, { connection: context.session });
  try {
    await table.setLocalLockTimeout(lockTimeoutMs);
    await lockKnexRow(trx, context);
    const applied = await table.readApplied();
    const stillThere = planned.every((migration) =>
      applied.some((row) => row.id === migration.id && row.name === migration.name),
    );
    if (!stillThere) throw new Error(`the migrations of this segment are no longer applied as planned`);
    await runDowns(trx, step.config, options, planned, true);
    await settled(step);
    await trx.commit();
  } catch (error) {
    await settled(step, 0);
    if (!trx.isCompleted()) await trx.rollback().catch(() => undefined);
    await table.rollback();
    if (error instanceof RollbackFailure) throw error;
    const lockWait = guard.refusal ? error : asLockWait(guard.lockWait ?? error, guard.failed()?.sql);
    if (isRetryableLockWait(lockWait)) {
      retried = true;
      guard.statements.splice(from);
      throw lockWait;
    }
    throw new SegmentFault(error, guard);
  } finally {
    if (!retried) step.statements.push(...guard.statements.slice(from));
  }
}

/**
 * A non-transactional migration: Knex's Migrator on the pool's other session runs its down
 * outside a transaction, as the migration asks, and takes and frees its lock row itself.
 * Each statement is still checked before it is sent; transaction control is the migration's own.
 */
async function outsideSegment(step: SegmentRun): Promise<void> {
  const { context, planned } = step;
  const { knex, options, guard } = context;
  guard.policy = { atomic: false, dryRun: false, allowDestructive: options.allowDestructive };
  const from = guard.statements.length;
  try {
    await runDowns(knex, step.config, options, planned, true);
    await settled(step);
  } catch (error) {
    await settled(step, 0);
    throw new SegmentFault(error, guard);
  } finally {
    step.statements.push(...guard.statements.slice(from));
  }
}

/** Waits for what the downs left behind; a refusal (now or earlier in the segment) fails it. */
async function settled(step: SegmentRun, graceMs?: number): Promise<void> {
  const { guard, options } = step.context;
  await guard.settle(step.tracker.frames, (ms) => clockOf(options).sleep(ms), graceMs);
  if (guard.refusal && graceMs === undefined) throw new GuardRefusal(guard.refusal);
}

/** A segment's failure with what it captured, for the message. */
class SegmentFault extends Error {
  constructor(
    override readonly cause: unknown,
    readonly capture: StatementRecord,
  ) {
    super('segment failed');
  }
}

interface SegmentPosition {
  index: number;
  segments: Segment[];
  plan: PlannedMigration[];
  undone: string[];
  before: StatusSnapshot;
}

function segmentFailure(error: unknown, step: SegmentRun, position: SegmentPosition): string {
  const { index, segments, plan, undone, before } = position;
  const { options } = step.context;
  const fault = error instanceof SegmentFault ? error : undefined;
  const refusal = step.context.guard.refusal;
  const failed = refusal ? undefined : fault?.capture.failed();
  const migration = failed?.migration ?? step.tracker.current ?? segments[index].migrations[0];
  const where = failed ? ` at "${oneLine(failed.sql)}"` : '';
  const reason = refusal ?? failed?.error ?? serverMessage(fault ? fault.cause : error);
  const remaining = plan.map((m) => m.name).filter((name) => !undone.includes(name));
  const segmentState = segments[index].transactional
    ? `Segment ${index + 1} of ${segments.length} ran in a transaction that was rolled back, so its migrations are still applied.`
    : `Segment ${index + 1} of ${segments.length} ran outside a transaction: ${migration}'s down() may have partly run, and its row in ${options.settings.tableName} is still there. Check its objects before resuming.`;
  return [
    refusal ?? `Migration ${migration} failed${where}: ${reason}.`,
    segmentState,
    `Undone and committed: ${undone.length ? undone.join(', ') : '(none)'}.`,
    `Still applied: ${remaining.join(', ')}.`,
    `To resume once fixed: ${resumeInputs(
      remaining,
      before.applied.filter((row) => !undone.includes(row.name)),
      options,
    )}.`,
  ].join(' ');
}

/** The inputs that undo exactly the remaining migrations, given what is applied now. */
export function resumeInputs(remaining: string[], applied: AppliedMigration[], options: RollbackOptions): string {
  const extra = `allow-non-atomic: true${options.allowDestructive ? ', allow-destructive: true' : ''}`;
  const remainingRows = applied.filter((row) => remaining.includes(row.name));
  const minId = Math.min(...remainingRows.map((row) => row.id));
  const below = applied.filter((row) => row.id < minId).sort((a, b) => b.id - a.id)[0];
  const contiguous = applied.filter((row) => row.id >= minId).every((row) => remaining.includes(row.name));
  if (contiguous && below) return `mode: rollback, to: ${JSON.stringify(below.name)}, ${extra}`;
  if (contiguous) return `mode: rollback, all: true, ${extra}`;
  return remaining.map((name) => `mode: down, migration: ${JSON.stringify(name)}, ${extra}`).join(', then ');
}
