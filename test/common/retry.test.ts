import { backoffDelay, parseRetryAfter, retry, retryReport, type Outcome } from '../../src/common/retry.js';
import { manualClock } from '../helpers/manual-clock.js';

const failing = (times: number, error = new Error('busy')) => {
  let calls = 0;
  return () => {
    calls += 1;
    return calls <= times ? Promise.reject(error) : Promise.resolve(`ok after ${calls}`);
  };
};

describe('backoffDelay', () => {
  it('doubles from the initial wait up to the cap', () => {
    const backoff = { initialMs: 5000, maxMs: 30_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, backoff))).toEqual([
      5000, 10_000, 20_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('never waits less than the initial wait when the cap is below it', () => {
    expect(backoffDelay(3, { initialMs: 60_000, maxMs: 30_000 })).toBe(60_000);
  });

  it('draws the jittered share at random, downwards only', () => {
    const backoff = { initialMs: 1000, maxMs: 10_000, jitter: 0.5 };
    expect(backoffDelay(2, backoff, () => 0)).toBe(2000);
    expect(backoffDelay(2, backoff, () => 1)).toBe(1000);
    expect(backoffDelay(2, { ...backoff, jitter: 1 }, () => 0.25)).toBe(1500);
  });
});

describe('retry', () => {
  it('retries thrown errors with backoff on the injected clock and returns the value', async () => {
    const clock = manualClock();
    const value = await retry(failing(3), { backoff: { initialMs: 100, maxMs: 250 }, clock, maxAttempts: 5 });
    expect(value).toBe('ok after 4');
    expect(clock.sleeps).toEqual([100, 200, 250]);
  });

  it('throws the last error once the attempts run out, and says so once', async () => {
    const clock = manualClock();
    const gaveUp: string[] = [];
    await expect(
      retry(failing(10, new Error('still busy')), {
        backoff: { initialMs: 10, maxMs: 1000 },
        maxAttempts: 3,
        clock,
        onGiveUp: ({ attempt, reason }) => gaveUp.push(`${attempt} ${reason}`),
      }),
    ).rejects.toThrow('still busy');
    expect(clock.sleeps).toEqual([10, 20]);
    expect(gaveUp).toEqual(['3 attempts']);
  });

  it('stops at once on an outcome that is not retryable', async () => {
    const clock = manualClock();
    const report = await retryReport(failing(5, new Error('401')), {
      backoff: { initialMs: 10, maxMs: 1000 },
      isRetryable: (outcome) => !outcome.ok && (outcome.error as Error).message !== '401',
      clock,
    });
    expect(report).toMatchObject({ attempts: 1, stopped: 'done', waits: [] });
    expect(report.outcome.ok).toBe(false);
  });

  it('retries on a returned value when told to, and waits as long as Retry-After says', async () => {
    const clock = manualClock();
    const answers = [429, 503, 200];
    const retried: string[] = [];
    const report = await retryReport(() => Promise.resolve(answers.shift()!), {
      backoff: { initialMs: 100, maxMs: 5000 },
      isRetryable: (outcome: Outcome<number>) =>
        outcome.ok && outcome.value === 429 ? { retryAfterMs: 3000 } : outcome.ok && outcome.value >= 500,
      clock,
      onRetry: ({ attempt, waitMs, retryAfter }) => retried.push(`${attempt}:${waitMs}:${retryAfter}`),
    });
    expect(report).toMatchObject({ outcome: { ok: true, value: 200 }, attempts: 3, waits: [3000, 200] });
    expect(retried).toEqual(['1:3000:true', '2:200:false']);
  });

  it('gives up rather than wait longer than the longest wait for a Retry-After', async () => {
    const clock = manualClock();
    const report = await retryReport(() => Promise.resolve(429), {
      backoff: { initialMs: 100, maxMs: 5000 },
      isRetryable: () => ({ retryAfterMs: 60_000 }),
      clock,
    });
    expect(report).toMatchObject({ attempts: 1, stopped: 'retry-after-too-long', waits: [] });
  });

  it('stops before a wait that would reach the deadline (atDeadline: stop)', async () => {
    const clock = manualClock(1000);
    const report = await retryReport(failing(10), {
      backoff: { initialMs: 400, maxMs: 10_000 },
      deadline: 2000,
      clock,
    });
    // 400 (at 1400), then 800 would end at 2200: past the deadline.
    expect(report).toMatchObject({ attempts: 2, stopped: 'deadline', waits: [400] });
  });

  it('cuts the last wait to the deadline and tries once more there (atDeadline: cut)', async () => {
    const clock = manualClock(0);
    const report = await retryReport(failing(10), {
      backoff: { initialMs: 400, maxMs: 10_000 },
      deadline: 1000,
      atDeadline: 'cut',
      clock,
    });
    expect(report).toMatchObject({ attempts: 3, stopped: 'deadline', waits: [400, 600] });
  });

  it('counts time spent inside an attempt against the deadline', async () => {
    const clock = manualClock(0);
    const report = await retryReport(
      () => {
        clock.advance(960);
        return Promise.reject(new Error('slow failure'));
      },
      { backoff: { initialMs: 50, maxMs: 50 }, deadline: 1000, clock },
    );
    expect(report).toMatchObject({ attempts: 1, stopped: 'deadline' });
  });

  it('applies jitter from the injected random source', async () => {
    const clock = manualClock();
    await retry(failing(2), {
      backoff: { initialMs: 1000, maxMs: 10_000, jitter: 1 },
      random: () => 0.5,
      clock,
    });
    expect(clock.sleeps).toEqual([500, 1000]);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
