import { systemClock, withinTime } from '../../src/common/clock.js';
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

  it('with fixedRate, keeps the checks on their slots from the start however long each takes', async () => {
    const clock = manualClock();
    const at: number[] = [];
    // Checks that take 2s, then 7s (past the next slot), then 1s each.
    const durations = [2000, 7000, 1000, 1000, 1000, 1000];
    const watching = poll(
      () => {
        at.push(clock.now());
        clock.advance(durations[at.length - 1]);
        return Promise.resolve({ done: false as const, progress: `check ${at.length}` });
      },
      { what: 'the watch', intervalMs: 5000, timeoutMs: 22_000, checkFirst: true, fixedRate: true, clock },
    );
    await expect(watching).rejects.toThrow(
      new WaitTimeoutError('Timed out after 21s waiting for the watch; last seen: check 5.', 21_000, 'check 5'),
    );
    // Slots 0, 5, 10, 15, 20 (the 7s check makes the 10s one start late, at 12s); none at 22s.
    expect(at).toEqual([0, 5000, 12_000, 15_000, 20_000]);
    expect(clock.sleeps).toEqual([3000, 2000, 4000]);
  });

  it('with fixedRate and no first check, counts the slots from one interval in, and makes a late one late', async () => {
    const clock = manualClock();
    const at: number[] = [];
    const slow = () => {
      at.push(clock.now());
      clock.advance(6000);
      return Promise.resolve({ done: false as const, progress: 'slow' });
    };
    const schedule = { what: 'x', intervalMs: 5000, timeoutMs: 16_000, fixedRate: true, clock };
    await expect(poll(slow, schedule)).rejects.toThrow(WaitTimeoutError);
    // Due at 5, 10 and 15s; each check takes 6s, so the second and third start late, at once.
    expect(at).toEqual([5000, 11_000, 17_000]);
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

describe('withinTime', () => {
  const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

  it('lets go of its timer on the system clock as soon as the work answers', async () => {
    const before = timers();
    expect(await withinTime(systemClock, Promise.resolve('answer'), 10 * 60_000, 'no answer')).toBe('answer');
    // A ten-minute timer left behind would keep the action's process alive after its work is done.
    expect(timers()).toBe(before);
  });

  it('fails with the message when the work outlives the time, on the clock it is given', async () => {
    const clock = manualClock();
    await expect(withinTime(clock, new Promise(() => undefined), 30_000, 'no answer in time')).rejects.toThrow(
      'no answer in time',
    );
    expect(clock.elapsed()).toBe(30_000);
  });
});
