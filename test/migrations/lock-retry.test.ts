import { silentLogger } from '../../src/common/logger.js';
import { attemptLockTimeout, LockAttempts, LockWaitTimeout } from '../../src/migrations/lock-retry.js';
import { RollbackFailure } from '../../src/migrations/run-types.js';
import { manualClock } from '../helpers/manual-clock.js';

const TEN_MINUTES = 600_000;

describe('attemptLockTimeout', () => {
  it('starts at a quarter of lock-timeout when nothing of the budget is spent', () => {
    expect(attemptLockTimeout(0, 200, TEN_MINUTES)).toBe(50);
  });

  it('grows with the time spent and reaches lock-timeout once a quarter of the budget is gone', () => {
    expect(attemptLockTimeout(75_000, 200, TEN_MINUTES)).toBe(100);
    expect(attemptLockTimeout(150_000, 200, TEN_MINUTES)).toBe(200);
    expect(attemptLockTimeout(400_000, 200, TEN_MINUTES)).toBe(200);
  });

  it('never waits past the budget left, nor less than 10 ms', () => {
    expect(attemptLockTimeout(TEN_MINUTES - 120, 200, TEN_MINUTES)).toBe(120);
    expect(attemptLockTimeout(TEN_MINUTES - 1, 200, TEN_MINUTES)).toBe(10);
  });
});

describe('LockAttempts', () => {
  it('lets the attempts of a long wait reach lock-timeout once a quarter of the budget is spent', async () => {
    const clock = manualClock(1_700_000_000_000);
    const attempts = new LockAttempts(
      { lockTimeoutMs: 200, lockWaitBudgetMs: TEN_MINUTES, logger: silentLogger, clock, random: () => 0 },
      undefined,
    );
    // Connecting and reading the files before the first attempt are not part of the budget.
    clock.advance(30_000);
    const setupMs = clock.elapsed();
    const startedAt: number[] = [];
    // A table that is never free: every attempt waits its whole lock_timeout, then is rolled back.
    const error = await attempts
      .run('The rollback', (attempt) => {
        startedAt.push(clock.elapsed() - setupMs);
        clock.advance(attempt.lockTimeoutMs);
        return Promise.reject(new LockWaitTimeout('"ALTER TABLE orders DROP COLUMN note"'));
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RollbackFailure);
    expect((error as Error).message).toMatch(
      /^The rollback: the locks it needs were not free within lock-wait-budget \(10m 0s\): \d+ attempt/,
    );
    // No watch read a blocker: the advice names no session to wait for or end.
    expect((error as Error).message).toContain('No blocker could be read');
    expect((error as Error).message).toContain('What to do: run again when the tables are less busy');
    expect((error as Error).message).not.toContain('those sessions');
    const waits = attempts.records.map((record) => record.lockTimeoutMs);
    expect(attempts.records.every((record) => record.outcome === 'lock timeout')).toBe(true);
    expect(waits[0]).toBe(50);
    startedAt.forEach((elapsed, index) => {
      if (elapsed < TEN_MINUTES / 4) expect(waits[index]).toBeLessThan(200);
      else if (elapsed <= TEN_MINUTES - 200) expect(waits[index]).toBe(200);
    });
    // Three quarters of the budget at lock-timeout: most attempts wait it in full.
    expect(waits.filter((wait) => wait === 200).length).toBeGreaterThan(waits.length / 2);
    const uncapped = waits.filter((_wait, index) => startedAt[index] <= TEN_MINUTES - 200);
    expect(uncapped).toEqual([...uncapped].sort((a, b) => a - b));
    expect(clock.elapsed() - setupMs).toBeLessThanOrEqual(TEN_MINUTES);
  });
});
