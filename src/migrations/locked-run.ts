import type { Knex } from 'knex';
import { runAtomic } from './atomic-run.js';
import { isSessionLost } from './failure.js';
import { formatDuration } from '../common/duration.js';
import { describeHolder } from './lock.js';
import { isRetryableLockWait, type AttemptInfo } from './lock-retry.js';
import { describeRequest } from './plan.js';
import { makePlan, type PlanOutcome } from './planning.js';
import { escapeControl } from './review.js';
import { lockKnexRow, type RunContext } from './run-context.js';
import { runSegments } from './segmented-run.js';
import {
  clockOf,
  combine,
  RollbackFailure,
  rethrowWithin,
  type RollbackOptions,
  type RunFragment,
} from './run-types.js';
import { selectMigrations } from './plan.js';
import { FileMigrationSource } from './source.js';
import type { StatusSnapshot } from './status.js';

/**
 * The run that may change something (rollback, down, plan with dry-run). Order matters:
 * the advisory lock is taken before anything is read, so a second run fails at once instead
 * of waiting and then running a plan it read before the first one finished.
 */
export async function lockedRun(context: RunContext): Promise<RunFragment> {
  const { table } = context;
  if (!(await table.tryAdvisoryLock())) {
    const holders = await table.holders();
    throw new RollbackFailure(
      `Another run holds the migration lock on ${table.schema}.${table.table}: ${holders.map(describeHolder).join('; ') || 'the holder ended just now'}. Nothing was read or changed. Wait for it to finish and run mode: plan again.`,
    );
  }
  let outcome: RunFragment;
  try {
    await prepareOutsideTransaction(context);
    outcome = await underLock(context);
  } catch (error) {
    // A terminated session released its advisory lock with it.
    if (!isSessionLost(error)) await table.releaseAdvisoryLock().catch(() => undefined);
    // What the database looks like after a failure is part of the report; read it once the lock is free.
    if (error instanceof RollbackFailure && !error.result.after) {
      const after = await context.freshStatus().catch(() => undefined);
      error.followedBy({ after });
    }
    throw error;
  }
  await table.releaseAdvisoryLock().catch(() => undefined);
  // Read after the advisory lock is released, so our own session is not reported as a holder.
  // The run ended well, so its session is alive: no new connection (and authentication) for it.
  return { ...outcome, after: outcome.after ?? (await table.readStatus(context.files)) };
}

async function underLock(context: RunContext): Promise<RunFragment> {
  const { options } = context;
  let firstPlan: string | undefined;
  const read = await context.attempts
    .run(runName(options), async (attempt) => {
      const from = context.guard.statements.length;
      context.guard.lockWait = undefined;
      try {
        const planned = await readPlan(context, attempt, firstPlan);
        firstPlan ??= planned.planned.fragment.fingerprint;
        return await afterPlan(context, planned);
      } catch (error) {
        // A lock wait that timed out is retried: what the attempt sent is not part of the report.
        if (isRetryableLockWait(error)) context.guard.statements.splice(from);
        throw error;
      }
    })
    .catch((error: unknown) => rethrowWithin(error, { attempts: context.attempts.records }));
  const attempts = { attempts: context.attempts.records };
  if (!('segmentsOf' in read)) return combine(read, attempts);
  const { planned, before, context0 } = read.segmentsOf;
  const segmented = await options.logger
    .group('Rolling back in segments (allow-non-atomic)', () => runSegments(context, planned, before))
    .catch((error: unknown) => rethrowWithin(error, combine(context0, attempts)));
  return combine(context0, segmented, attempts);
}

function runName(options: RollbackOptions): string {
  return options.dryRun ? 'The dry run' : 'The rollback';
}

interface ReadPlan {
  trx: Knex.Transaction;
  /** When the attempt's BEGIN was sent: the lock hold is measured from it. */
  begun: number;
  planned: PlanOutcome;
  before: StatusSnapshot;
}

/**
 * One attempt's start: its transaction, its lock_timeout, Knex's lock row, the plan. The first
 * plan read is checked against expected-plan; every later attempt's against the first one's (a
 * `knex migrate` run by the service ignores our advisory lock).
 */
async function readPlan(context: RunContext, attempt: AttemptInfo, firstPlan: string | undefined): Promise<ReadPlan> {
  const { knex, table, options, files } = context;
  // Lock-hold starts with BEGIN: from here on Knex's lock row (and whatever the downs lock) is held.
  const begun = clockOf(options).now();
  const trx = await knex.transaction(undefined, { connection: context.session });
  try {
    await table.setLocalLockTimeout(attempt.lockTimeoutMs);
    await lockKnexRow(trx, context);
    const applied = await table.readApplied();
    const before = { ...(await table.readStatus(files)), applied };
    const planOptions = firstPlan === undefined ? options : { ...options, expectedPlan: undefined };
    const planned = await makePlan(applied, files, planOptions).catch((error: unknown) =>
      rethrowWithin(error, { before }),
    );
    if (firstPlan !== undefined && planned.fragment.fingerprint !== firstPlan) {
      throw new RollbackFailure(
        `Attempt ${attempt.number} re-read ${table.schema}.${table.table} under Knex's lock row and found a different plan (fingerprint ${planned.fragment.fingerprint}, was ${firstPlan} at the first attempt): a knex migrate or another rollback changed what is applied while this run waited for locks. Nothing was changed. Run mode: plan again, review it, and pass its plan-fingerprint.`,
        combine({ before }, planned.fragment),
      );
    }
    return { trx, begun, planned, before };
  } catch (error) {
    if (!trx.isCompleted()) await trx.rollback().catch(() => undefined);
    throw error;
  }
}

type AttemptResult =
  RunFragment | { segmentsOf: { planned: PlanOutcome; before: StatusSnapshot; context0: RunFragment } };

async function afterPlan(context: RunContext, read: ReadPlan): Promise<AttemptResult> {
  const { options } = context;
  const { trx, planned, before, begun } = read;
  const context0 = combine({ before }, planned.fragment);
  logPlan(options, planned.fragment);
  try {
    if (planned.fragment.plan.length === 0) {
      await trx.rollback().catch(() => undefined);
      const notes = [`Nothing to undo: ${describeRequest(options.request)} matched no applied migration.`];
      return combine(context0, { after: before, notes });
    }
    const outside = planned.fragment.plan.filter((migration) => !migration.transaction);
    if (outside.length === 0 || options.dryRun) {
      return combine(context0, await runAtomic(trx, planned, context, before, begun));
    }
    // Segments: this transaction only read; each segment takes the row lock again.
    await trx.commit();
  } catch (error) {
    if (!trx.isCompleted()) await trx.rollback().catch(() => undefined);
    rethrowWithin(error, context0);
  }
  return { segmentsOf: { planned, before, context0 } };
}

function logPlan(options: RollbackOptions, fragment: PlanOutcome['fragment']): void {
  const { logger } = options;
  logger.info(
    `Plan (${describeRequest(options.request)}): ${fragment.plan.length ? fragment.plan.map((m) => `${escapeControl(m.name)} [batch ${m.batch}${m.transaction ? '' : ', outside a transaction'}]`).join(', ') : 'nothing'}`,
  );
  logger.info(`plan-fingerprint: ${fragment.fingerprint}`);
}

/**
 * What can be done before BEGIN is done before it, so that it does not add to the time the
 * transaction holds its locks: the parser is started (and waited for), and the migrations the
 * plan will most likely undo are loaded (require/import caches them for the run). The plan
 * itself is made again under the lock; a failure here is left for that step to report.
 */
async function prepareOutsideTransaction(context: RunContext): Promise<void> {
  const { options, files, table } = context;
  const started = clockOf(options).now();
  const warmUp = (options.classifyEach ?? ((texts) => options.classify(texts)))(['SELECT 1']).catch(() => undefined);
  const applied = await table.readApplied().catch(() => undefined);
  if (applied) {
    const names = files.map((file) => file.name);
    const rows = (() => {
      try {
        return selectMigrations(applied, names, options.request).rows;
      } catch {
        return [];
      }
    })();
    const source = new FileMigrationSource(files);
    await Promise.all(
      rows.flatMap((row) => {
        const file = files.find((candidate) => candidate.name === row.name);
        return file ? [source.getMigration(file).catch(() => undefined)] : [];
      }),
    );
  }
  await warmUp;
  options.logger.debug(
    `Prepared before BEGIN (parser, migrations loaded) in ${formatDuration(clockOf(options).now() - started)}.`,
  );
}
