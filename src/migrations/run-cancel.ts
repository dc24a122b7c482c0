// A cancelled run frees its locks before the runner kills it. GitHub's cancel sends SIGINT, then
// SIGTERM, then SIGKILL: PostgreSQL would otherwise keep executing the running statement (holding
// its locks) until statement-timeout, since it only notices a vanished client when it next writes
// to it. So, on the signal: no new attempt or segment starts, the running statement is cancelled
// from a second connection (pg_cancel_backend), the run rolls its transaction back and releases
// its locks itself; if it has not within the grace, its backend is terminated, which does the same.
import type pg from 'pg';
import { systemClock, type Clock } from '../common/clock.js';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { RegisterCleanup } from '../common/shutdown.js';

export interface CancelTarget {
  /** A connection of its own, never the run's (which is busy with the statement to cancel). */
  side: Pick<pg.Client, 'query'>;
  /** The backend pid of the run's session. */
  pid: number;
  /** Settles when the run has rolled back and released its session. */
  settled: Promise<unknown>;
  /** Stops new attempts and segments. */
  stopStarting(): void;
  /** What was committed by the time the run stopped, for the last words. */
  committed(): string;
  logger: Logger;
  clock?: Clock;
}

/** How long the run gets to roll back after its statement was cancelled, before its backend is terminated. */
export const ROLLBACK_GRACE_MS = 4_000;

/** Registers the cancel with the runtime; returns the function that unregisters it once the run ended. */
export function cancelOnSignal(onCleanup: RegisterCleanup, target: CancelTarget): () => void {
  return onCleanup("cancelling the rollback's running statement and rolling back", () => cancelRun(target));
}

export async function cancelRun(target: CancelTarget): Promise<void> {
  const { side, pid, logger } = target;
  const clock = target.clock ?? systemClock;
  target.stopStarting();
  await side
    .query('SELECT pg_cancel_backend($1)', [pid])
    .catch((error: unknown) =>
      logger.warning(`Could not cancel the running statement (pid ${pid}): ${errorMessage(error)}`),
    );
  const settled = await Promise.race([
    target.settled.then(
      () => true,
      () => true,
    ),
    clock.sleep(ROLLBACK_GRACE_MS).then(() => false),
  ]);
  if (!settled) {
    // Terminating the backend rolls its transaction back and frees every lock it held.
    await side
      .query('SELECT pg_terminate_backend($1)', [pid])
      .catch((error: unknown) =>
        logger.warning(`Could not end the run's session (pid ${pid}): ${errorMessage(error)}`),
      );
  }
  logger.warning(
    `Cancelled: the running statement was cancelled${settled ? ' and the transaction rolled back' : ` and, as the rollback did not finish within ${ROLLBACK_GRACE_MS / 1000}s, session ${pid} was ended`}; its locks are released. ${target.committed()}`,
  );
}
