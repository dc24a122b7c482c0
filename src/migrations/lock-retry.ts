// Short lock waits, retried. A DDL statement waiting for ACCESS EXCLUSIVE makes every new query on
// its table queue behind it, so the application stalls for as long as the wait lasts. Each attempt
// therefore waits at most a short lock_timeout (growing up to lock-timeout); on 55P03 its
// transaction is rolled back and, after a jittered sleep, the whole transaction runs again, until
// lock-wait-budget is spent (GitLab's with_lock_retries, strong_migrations and safe-pg-migrations
// do the same). Each attempt re-runs the down()s from the start.
import { formatDuration } from '../common/duration.js';
import { retryReport, type Backoff } from '../common/retry.js';
import { describeBlocker, type Blocker, type BlockerWatch, type LockAttemptRecord } from './blockers.js';

export type { LockAttemptRecord } from './blockers.js';
import { isLockTimeout } from './lock.js';
import { oneLine } from './review.js';
import { systemClock, type Clock } from '../common/clock.js';
import { RollbackFailure, type RollbackOptions } from './run-types.js';

/** The sleep between attempts: short, so the run gets in soon after the blocker ends; jittered, so two runs do not collide again. */
export const ATTEMPT_BACKOFF: Backoff = { initialMs: 100, maxMs: 1000, factor: 1.5, jitter: 0.5 };
/** The first attempt waits a quarter of lock-timeout; the waits reach lock-timeout when a quarter of the budget is spent. */
const FIRST_SHARE = 0.25;
const GROWTH_SHARE_OF_BUDGET = 0.25;
const SHORTEST_WAIT_MS = 10;

/** An attempt ended on a lock it could not get within its lock_timeout: worth another attempt. */
export class LockWaitTimeout extends Error {
  constructor(
    /** What waited: a statement of a down(), or Knex's lock row. */
    readonly waitedAt: string,
    /** Sessions known to hold the lock when no sample caught the wait (Knex's lock row, say). */
    readonly knownHolders: Blocker[] = [],
    override readonly cause?: unknown,
  ) {
    super(`waited longer than its lock_timeout for a lock at ${waitedAt}`);
    this.name = 'LockWaitTimeout';
  }
}

export interface AttemptInfo {
  /** 1 for the first attempt of the run (attempts are counted over the whole run, segments included). */
  number: number;
  /** The lock_timeout this attempt sets for its transaction. */
  lockTimeoutMs: number;
}

/**
 * The lock_timeout of an attempt begun `elapsedMs` into the budget: a quarter of the longest at
 * first, growing with the time spent to the longest once a quarter of the budget is gone, never
 * past the budget left. Growing with time, not with the attempt count, keeps the waits short
 * through a brief blocker (each wait stalls the application's queries on the table for as long
 * as it lasts) and long enough, later, for a table that is never free for a short moment.
 */
export function attemptLockTimeout(elapsedMs: number, longestMs: number, budgetMs: number): number {
  const share = Math.min(1, Math.max(FIRST_SHARE, elapsedMs / (budgetMs * GROWTH_SHARE_OF_BUDGET)));
  return Math.max(SHORTEST_WAIT_MS, Math.round(Math.min(longestMs * share, budgetMs - elapsedMs)));
}

/** Whether an error is worth another attempt: a lock wait that timed out, and nothing else. */
export function isRetryableLockWait(error: unknown): error is LockWaitTimeout {
  return error instanceof LockWaitTimeout;
}

/** Turns a failure of a down() on 55P03 into a LockWaitTimeout; any other error is returned as it is. */
export function asLockWait(error: unknown, statement: string | undefined): unknown {
  if (!isLockTimeout(error) || error instanceof LockWaitTimeout) return error;
  return new LockWaitTimeout(statement ? `"${oneLine(statement)}"` : 'a statement of the rollback', [], error);
}

/**
 * The run's attempts, over all its transactions (the atomic one, or each segment's): one budget
 * from the first attempt on, one count, one record.
 */
export class LockAttempts {
  readonly records: LockAttemptRecord[] = [];
  /**
   * When the budget began, at the first attempt (the clock's time), and when it ends: each
   * attempt's lock_timeout grows with the time spent since. The first attempt of the run therefore
   * waits a quarter of lock-timeout, however long connecting and reading the files took.
   */
  private budget: { startedAt: number; deadline: number } | undefined;
  /**
   * Called as each attempt starts; each returns what undoes, in this process, what the attempt
   * did before it was rolled back (the preserved copies' record, say).
   */
  readonly checkpoints: Array<() => () => void> = [];
  private cancelled = false;

  constructor(
    private readonly options: Pick<
      RollbackOptions,
      'lockTimeoutMs' | 'lockWaitBudgetMs' | 'logger' | 'clock' | 'random'
    >,
    private readonly watch: BlockerWatch | undefined,
  ) {}

  private get clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  /** After SIGINT/SIGTERM: no new attempt starts. */
  cancel(): void {
    this.cancelled = true;
  }

  /** Runs `body` (one whole transaction) until it does not time out on a lock, or the budget is spent. */
  async run<T>(what: string, body: (attempt: AttemptInfo) => Promise<T>): Promise<T> {
    const { logger, lockTimeoutMs: longestMs, lockWaitBudgetMs } = this.options;
    const now = this.clock.now();
    const budget = (this.budget ??= { startedAt: now, deadline: now + lockWaitBudgetMs });
    const report = await retryReport<T>(
      async () => {
        if (this.cancelled)
          throw new RollbackFailure(
            `${what} was cancelled before attempt ${this.records.length + 1}. Nothing more was changed.`,
          );
        const number = this.records.length + 1;
        const lockTimeoutMs = attemptLockTimeout(this.clock.now() - budget.startedAt, longestMs, lockWaitBudgetMs);
        const record: LockAttemptRecord = { attempt: number, lockTimeoutMs, outcome: 'failed', blockers: [] };
        this.records.push(record);
        this.watch?.start(Math.min(200, Math.max(20, Math.floor(lockTimeoutMs / 3))));
        const undo = this.checkpoints.map((checkpoint) => checkpoint());
        try {
          const value = await body({ number, lockTimeoutMs });
          record.outcome = 'done';
          return value;
        } catch (error) {
          const seen = (await this.watch?.blockers()) ?? [];
          if (isRetryableLockWait(error)) {
            for (const forget of undo) forget();
            record.outcome = 'lock timeout';
            record.waitedAt = error.waitedAt;
            record.blockers = seen.length > 0 ? seen : error.knownHolders;
          }
          throw error;
        } finally {
          this.watch?.stop();
        }
      },
      {
        isRetryable: (outcome) => !outcome.ok && isRetryableLockWait(outcome.error) && !this.cancelled,
        deadline: budget.deadline,
        atDeadline: 'stop',
        backoff: ATTEMPT_BACKOFF,
        clock: this.clock,
        random: this.options.random,
        onRetry: ({ waitMs }) =>
          logger.info(`${this.describe(this.records.at(-1)!)}; next attempt in ${formatDuration(waitMs)}.`),
        onGiveUp: () => logger.info(`${this.describe(this.records.at(-1)!)}; lock-wait-budget spent.`),
      },
    );
    if (report.outcome.ok) {
      if (this.records.length > 1) logger.info(`${what}: done at attempt ${this.records.length}.`);
      return report.outcome.value;
    }
    const { error } = report.outcome;
    if (isRetryableLockWait(error) && !this.cancelled) throw this.budgetSpent(what);
    throw isRetryableLockWait(error) ? (error.cause ?? error) : error;
  }

  private describe(record: LockAttemptRecord): string {
    const who = record.blockers.length
      ? `blocked by ${record.blockers.map(describeBlocker).join('; ')}`
      : 'the blocker ended before it could be read';
    return `Attempt ${record.attempt} (lock_timeout ${formatDuration(record.lockTimeoutMs)}): waited in vain for a lock at ${record.waitedAt ?? '(unknown)'}, rolled back; ${who}`;
  }

  /** Every distinct session that blocked an attempt, the last seen state of each. */
  blockers(): Blocker[] {
    const byPid = new Map<number, Blocker>();
    for (const record of this.records) for (const blocker of record.blockers) byPid.set(blocker.pid, blocker);
    return [...byPid.values()];
  }

  private budgetSpent(what: string): RollbackFailure {
    const blockers = this.blockers();
    const timedOut = this.records.filter((record) => record.outcome === 'lock timeout').length;
    const who = blockers.length
      ? `Blocked by: ${blockers.map(describeBlocker).join('; ')}.`
      : 'No blocker could be read (each ended its wait before a sample caught it).';
    const pids = blockers.map((blocker) => blocker.pid).join(', ');
    return new RollbackFailure(
      `${what}: the locks it needs were not free within lock-wait-budget (${formatDuration(this.options.lockWaitBudgetMs)}): ${timedOut} attempt(s), each waiting at most lock-timeout (${formatDuration(this.options.lockTimeoutMs)}), each rolled back. ${who} Nothing was changed by the attempts. What to do: ${whatToDo(blockers.length, pids)}`,
      { attempts: this.records },
    );
  }
}

/** Without a blocker named, there is no session to wait for or end: only the busy tables. */
function whatToDo(blockers: number, pids: string): string {
  if (!blockers)
    return 'run again when the tables are less busy, or with a longer lock-wait-budget; pg_locks lists who holds locks on them.';
  const them = blockers === 1 ? 'that session' : 'those sessions';
  return `wait for ${them} to finish and run again, or end ${blockers === 1 ? 'it' : 'them'} if that is safe (SELECT pg_terminate_backend(pid) for pid ${pids}), or run again with a longer lock-wait-budget.`;
}
