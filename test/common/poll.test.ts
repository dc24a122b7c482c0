import { poll, WaitTimeoutError, type PollResult } from '../../src/common/retry.js';
import { manualClock } from '../helpers/manual-clock.js';

describe('poll', () => {
  it('checks once per interval and returns when done', async () => {
    const clock = manualClock();
    const states: PollResult<string>[] = [
      { done: false, progress: '10%' },
      { done: false, progress: '60%' },
      { done: true, value: 'ok' },
    ];
    const progress: string[] = [];
    const outcome = await poll(() => Promise.resolve(states.shift()!), {
      what: 'x',
      intervalMs: 5000,
      timeoutMs: 60_000,
      clock,
      onPoll: (p) => progress.push(p),
    });
    expect(outcome).toEqual({ value: 'ok', waitedMs: 15_000, polls: 3 });
    expect(clock.sleeps).toEqual([5000, 5000, 5000]);
    expect(progress).toEqual(['10%', '60%']);
  });

  it('checks before sleeping when asked (something that may already be done)', async () => {
    const clock = manualClock();
    const outcome = await poll(() => Promise.resolve({ done: true as const, value: 1 }), {
      what: 'x',
      intervalMs: 5000,
      timeoutMs: 1000,
      checkFirst: true,
      clock,
    });
    expect(outcome.polls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('makes its last check at the timeout, then fails with the last progress', async () => {
    const clock = manualClock();
    const error = await poll(() => Promise.resolve({ done: false as const, progress: 'creating (40%)' }), {
      what: 'snapshot "s"',
      intervalMs: 5000,
      timeoutMs: 12_000,
      clock,
    }).then(
      () => undefined,
      (e: unknown) => e as WaitTimeoutError,
    );
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(error?.message).toBe('Timed out after 12s waiting for snapshot "s"; last seen: creating (40%).');
    expect(clock.sleeps).toEqual([5000, 5000, 2000]);
  });

  it('stops at once when the check throws', async () => {
    const clock = manualClock();
    let calls = 0;
    const check = (): Promise<PollResult<never>> => {
      calls += 1;
      if (calls === 2) return Promise.reject(new Error('failed'));
      return Promise.resolve({ done: false, progress: 'creating' });
    };
    await expect(poll(check, { what: 'x', intervalMs: 5000, timeoutMs: 3_600_000, clock })).rejects.toThrow('failed');
    expect(calls).toBe(2);
  });
});
