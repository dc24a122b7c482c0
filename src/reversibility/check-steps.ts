import type { Knex } from 'knex';
import type { Clock } from '../common/clock.js';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { StatementGuard } from '../migrations/guard.js';
import { inDownFrame, watchDowns, type DownFrame } from '../migrations/origin.js';
import type { MigrationFile, MigrationModule } from '../migrations/source.js';
import type { CheckResult, MigrationCheck } from './check-result.js';
import type { Step } from './knex-steps.js';
import type { QueryObserver } from './query-observer.js';
import type { CaptureOptions, SchemaSnapshot } from './schema-capture.js';
import { describeDifference, diffSchemas, isEmptyDifference } from './schema-diff.js';
import { CheckCancelled } from './scratch-database.js';
import type { Session } from './session.js';

// The steps of one check, as Knex's Migrator runs them (knex-steps.ts): up() after a
// capture, down(), then a capture and the comparison before up() runs again. A step that
// ends the check early (a failure, a difference) records why and throws StopBatch: Knex
// rolls back that step's transaction and runs nothing after it, and the checker rebuilds
// the state on a fresh database before it goes on.

/** Why the Migrator stopped before the end of the steps it was given. */
export interface Stop {
  /** Index of the migration whose step stopped it. */
  index: number;
  kind: 'check' | 'unchecked' | 'replay';
  /** For unchecked and replayed migrations: the up() error. */
  error?: string;
}

/** Thrown by a step to end the Migrator's run; the reason is in RunContext.stopped. */
export class StopBatch extends Error {
  constructor(readonly stop: Stop) {
    super(`verify-reversible stopped the run at migration #${stop.index + 1}`);
    this.name = 'StopBatch';
  }
}

/** What the steps share with the checker. */
export interface RunContext {
  session: Session;
  capture: CaptureOptions;
  observer: QueryObserver;
  /** The statement guard in observe mode, on every connection of every session. */
  guard: StatementGuard;
  /** Checked migrations whose down() left a timer running longer than the guard waited for it. */
  timersLeft: Set<string>;
  /** Whether the compared schema was seen holding anything but extensions: if never, nothing was compared. */
  schemaSeen: boolean;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
  result: CheckResult;
  /** The tables before each checked migration's up(), for the data findings. */
  tablesBefore: Map<string, Set<string>>;
}

/** Checks between steps, so a cancelled run starts nothing new. */
function refuseWhenCancelled(context: RunContext): void {
  if (context.signal?.aborted) throw new CheckCancelled(String(context.signal.reason ?? 'cancelled'));
}

function stop(context: RunContext, stopAt: Stop): never {
  refuseWhenCancelled(context);
  throw new StopBatch(stopAt);
}

/** A migration before the checked ones (`only`): its up(), unchecked. */
export function uncheckedStep(context: RunContext, file: MigrationFile, index: number): Step {
  return {
    name: file.name,
    file,
    async run(knex, real) {
      refuseWhenCancelled(context);
      try {
        await real.up(knex);
      } catch (error) {
        stop(context, { index, kind: 'unchecked', error: errorMessage(error) });
      }
      context.result.appliedUnchecked.push(file.name);
      context.logger.info(`  ${file.name}: applied (not checked)`);
    },
  };
}

/** Rebuilding the state after a failed check: the migration's up() again, on a fresh database. */
export function replayStep(context: RunContext, file: MigrationFile, index: number): Step {
  return {
    name: file.name,
    file,
    async run(knex, real) {
      refuseWhenCancelled(context);
      try {
        await real.up(knex);
      } catch (error) {
        stop(context, { index, kind: 'replay', error: errorMessage(error) });
      }
    },
  };
}

/** The three steps of one checked migration: up, down, up again. */
export function checkSteps(context: RunContext, file: MigrationFile, index: number): Step[] {
  const { name } = file;
  const check: MigrationCheck = { name, outcome: 'exact', left: [], lost: [], warnings: [], durationMs: 0 };
  let started = 0;
  let before: SchemaSnapshot | undefined;
  const fail = (step: NonNullable<MigrationCheck['failure']>['step'], reason: string, error: string): never => {
    finish(context, check, started, { outcome: 'error', reason, failure: { step, error } });
    stop(context, { index, kind: 'check' });
  };
  const up: Step = {
    name,
    file,
    async run(knex, real) {
      refuseWhenCancelled(context);
      started = context.clock.now();
      context.result.checks.push(check);
      if (typeof real.down !== 'function')
        fail('up', 'exports no down() function: it cannot be rolled back', 'no down() function');
      before = await context.session.captureSchema(context.capture);
      context.tablesBefore.set(name, tablesOf(before));
      context.schemaSeen ||= holdsObjects(before);
      await runObserved(context, name, 'up', knex, real).catch((error: unknown) => {
        const message = errorMessage(error);
        fail('up', `up() failed, so it and every later migration could not be checked: ${message}`, message);
      });
    },
  };
  const down: Step = {
    name: `${name} (down)`,
    file,
    async run(knex, real) {
      refuseWhenCancelled(context);
      // Until the compared schema is seen holding something, look at it after up() too.
      if (!context.schemaSeen) context.schemaSeen = holdsObjects(await context.session.captureSchema(context.capture));
      await runObserved(context, name, 'down', knex, real).catch((error: unknown) => {
        const message = errorMessage(error);
        fail('down', `down() failed: ${message}`, message);
      });
    },
  };
  const upAgain: Step = {
    name: `${name} (up again)`,
    file,
    async run(knex, real) {
      refuseWhenCancelled(context);
      const difference = diffSchemas(before!, await context.session.captureSchema(context.capture));
      let upAgainError: string | undefined;
      await Promise.resolve()
        .then(() => real.up(knex))
        .catch((error: unknown) => (upAgainError = errorMessage(error)));
      const reasons: string[] = [];
      if (!isEmptyDifference(difference))
        reasons.push(`down() did not restore the schema: ${describeDifference(difference).join('; ')}`);
      if (upAgainError) reasons.push(`up() after down() failed: ${upAgainError}`);
      finish(context, check, started, {
        outcome: upAgainError ? 'error' : reasons.length ? 'difference' : 'exact',
        reason: reasons.length ? reasons.join('. ') : undefined,
        left: difference.left,
        lost: difference.lost,
        failure: upAgainError ? { step: 'up after down', error: upAgainError } : undefined,
      });
      if (check.outcome !== 'exact') stop(context, { index, kind: 'check' });
    },
  };
  return [up, down, upAgain];
}

/**
 * Runs up() or down() in a frame of its own, which tells the guard whose statements it sees.
 * After a down(), waits as the rollback does for the timers it left and the statements still
 * being decided (the guard's settle), before Knex commits the step: a query a timer sends
 * then is seen, late; a timer still pending after the grace is noted.
 */
async function runObserved(
  context: RunContext,
  name: string,
  direction: 'up' | 'down',
  knex: Knex,
  real: MigrationModule,
): Promise<void> {
  const frame = context.observer.step(name, direction);
  // Counts the timers a down() leaves (origin.ts); only while one runs: the hook costs on every promise.
  const stopWatching = direction === 'down' ? watchDowns() : undefined;
  let returned = false;
  try {
    await inDownFrame(name, async () => void (await real[direction]!(knex)), frame);
    returned = true;
  } finally {
    if (stopWatching) await settleDown(context, frame, returned).finally(stopWatching);
  }
}

/** The guard's settle after a down(): its grace when down() returned, none when it threw. */
async function settleDown(context: RunContext, frame: DownFrame, returned: boolean): Promise<void> {
  const pending = await context.guard.settle([frame], (ms) => context.clock.sleep(ms), returned ? undefined : 0);
  if (returned && pending.length > 0) context.timersLeft.add(frame.migration);
}

function finish(context: RunContext, check: MigrationCheck, started: number, verdict: Partial<MigrationCheck>): void {
  Object.assign(check, verdict, { durationMs: context.clock.now() - started });
  context.logger.info(`  ${check.name}: ${summarize(check)} (${check.durationMs} ms)`);
}

function tablesOf(snapshot: SchemaSnapshot): Set<string> {
  const tables = new Set<string>();
  for (const key of snapshot.keys()) if (key.startsWith('table ')) tables.add(key.slice('table '.length));
  return tables;
}

/** Anything but extensions (which count wherever they are): a table, a view, a type, a function. */
function holdsObjects(snapshot: SchemaSnapshot): boolean {
  for (const key of snapshot.keys()) if (!key.startsWith('extension ')) return true;
  return false;
}

function summarize(check: MigrationCheck): string {
  if (check.outcome === 'exact') return 'exact';
  return `${check.outcome === 'error' ? 'ERROR' : 'DIFFERENCE'}: ${check.reason}`;
}
