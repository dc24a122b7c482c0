import { errorMessage } from '../common/errors.js';
import { formatDuration } from '../common/duration.js';
import { isLockTimeout } from './lock.js';
import { oneLine } from './review.js';
import type { RollbackOptions } from './run-types.js';
import { serverMessage, type CapturedStatement, type MigrationTracker } from './sql-capture.js';

/** What a run recorded of its statements: the guard's record, or a capture's. */
export interface StatementRecord {
  readonly statements: readonly CapturedStatement[];
  failed(): CapturedStatement | undefined;
}

export function isSessionLost(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  const message = errorMessage(error);
  return (
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    /Connection terminated|terminating connection|connection.*(closed|ended)|not queryable/i.test(message)
  );
}

/** Which migration failed, at which statement, and why: from what the run captured. */
export function whereItFailed(
  error: unknown,
  tracker: MigrationTracker,
  capture: StatementRecord,
): { migration: string | undefined; where: string; reason: string } {
  const failed = capture.failed();
  const last = capture.statements.at(-1);
  return {
    migration: failed?.migration ?? tracker.current ?? tracker.started.at(-1),
    where: failed ? ` at "${oneLine(failed.sql)}"` : last ? ` after "${oneLine(last.sql)}"` : '',
    reason: failed?.error ?? serverMessage(error),
  };
}

/** The message of a failed atomic run (or dry run): what failed, where, and that nothing changed. */
export function describeFailure(
  error: unknown,
  tracker: MigrationTracker,
  capture: StatementRecord,
  planned: string[],
  options: RollbackOptions,
): string {
  const { migration, where, reason } = whereItFailed(error, tracker, capture);
  const state = options.dryRun
    ? 'This was a dry run: nothing was changed.'
    : `Nothing was changed: the transaction was rolled back, so ${planned.join(', ')} ${planned.length === 1 ? 'is' : 'are'} still applied and ${options.settings.tableName} is as it was.`;
  if (isSessionLost(error)) {
    return `The database session was terminated while ${migration ?? 'the rollback'} was running${where}: ${reason}. PostgreSQL rolled the transaction back. ${state} Run it again.`;
  }
  if (isLockTimeout(error)) {
    return `Migration ${migration ?? '(unknown)'} waited longer than lock-timeout (${formatDuration(options.lockTimeoutMs)}) for a lock${where}: ${reason}. Something else holds a lock on the objects it changes (see pg_locks). ${state}`;
  }
  return `Migration ${migration ?? '(unknown)'} failed${where}: ${reason}. ${state}`;
}
