import type { Clock } from '../../src/common/clock.js';

/**
 * A clock that only moves when the code under test sleeps: `sleep(ms)` advances it by `ms` and
 * resolves at once. A five-minute watch then runs in milliseconds of real time, and "how long did
 * it take" is read from the clock (`elapsed()`), never from the wall.
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly started: number;
  /** Every sleep asked for, in order. */
  readonly sleeps: number[] = [];

  constructor(start = Date.parse('2026-11-29T03:10:00Z')) {
    this.current = start;
    this.started = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.current += Math.max(0, ms);
    return Promise.resolve();
  }

  /** Moves time without a sleep: a slow answer, say. */
  advance(ms: number): void {
    this.current += ms;
  }

  /** Milliseconds since the clock was made. */
  elapsed(): number {
    return this.current - this.started;
  }
}
