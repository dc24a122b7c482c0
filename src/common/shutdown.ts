// The one place that handles SIGINT and SIGTERM. A cancelled run gets SIGINT from the runner, then
// SIGTERM about 7.5 s later, then SIGKILL 2.5 s after that: whatever a step must undo (cancel the
// running statement, drop a scratch database, close a server) has that long.
//
// API (small on purpose):
//   - Domain code takes a `RegisterCleanup` as a plain argument and calls
//     `const done = onCleanup('dropping the scratch database(s)', () => drop())` when it creates
//     something, then `done()` once it has released it itself. No @actions/core, no process handlers.
//   - The action runtime (src/actions/common/action.ts) owns the one `Shutdown`, installs it for the
//     run and hands `shutdown.register` to the action as `runtime.onCleanup`.
// On a signal the cleanups still registered run in reverse registration order (the last thing
// acquired is released first), together bounded by `timeoutMs`; then the process exits 130 (SIGINT)
// or 143 (SIGTERM). A second signal while they run is ignored so it cannot cut a cleanup short.
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

export type Cleanup = () => unknown;

/** Registers a cleanup for a cancelled run; returns the function that unregisters it. */
export type RegisterCleanup = (description: string, cleanup: Cleanup) => () => void;

/** A registration function that never runs anything: for tests, benchmarks and callers without signals. */
export const noCleanup: RegisterCleanup = () => () => undefined;

export interface ShutdownOptions {
  logger: Logger;
  /** The longest all cleanups together may take. */
  timeoutMs?: number;
  /** Called before exiting, after the cleanups (the runtime writes the summary here). */
  beforeExit?: (signal: NodeJS.Signals) => Promise<void> | void;
  /** Injected in tests; defaults to process.exit. */
  exit?: (code: number) => void;
}

export const DEFAULT_CLEANUP_TIMEOUT_MS = 6_000;

export class Shutdown {
  private readonly cleanups: Array<{ description: string; cleanup: Cleanup }> = [];
  private stopping: Promise<void> | undefined;
  private readonly handler = (signal: NodeJS.Signals): void => {
    void this.stop(signal);
  };

  constructor(private readonly options: ShutdownOptions) {}

  readonly register: RegisterCleanup = (description, cleanup) => {
    const entry = { description, cleanup };
    this.cleanups.push(entry);
    return () => {
      const index = this.cleanups.indexOf(entry);
      if (index >= 0) this.cleanups.splice(index, 1);
    };
  };

  /** Listens for SIGINT and SIGTERM until `uninstall`. */
  install(): void {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  uninstall(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }

  /** Runs the cleanups (once, however many signals arrive), then exits. */
  stop(signal: NodeJS.Signals): Promise<void> {
    this.stopping ??= this.runCleanups(signal);
    return this.stopping;
  }

  private async runCleanups(signal: NodeJS.Signals): Promise<void> {
    const { logger } = this.options;
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS;
    const pending = [...this.cleanups].reverse();
    this.cleanups.length = 0;
    const what = pending.map((entry) => entry.description);
    logger.warning(`Received ${signal}: ${what.length ? `${what.join(', ')} and ` : ''}stopping.`);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), timeoutMs);
    });
    const all = (async () => {
      for (const entry of pending) {
        try {
          await entry.cleanup();
        } catch (error) {
          logger.warning(`Cleanup "${entry.description}" failed: ${errorMessage(error)}`);
        }
      }
      return 'done' as const;
    })();
    if ((await Promise.race([all, expired])) === 'expired')
      logger.warning(`Cleanups still running after ${timeoutMs / 1000}s; stopping without them.`);
    clearTimeout(timer);
    try {
      await this.options.beforeExit?.(signal);
    } finally {
      const code = signal === 'SIGINT' ? 130 : 143;
      logger.error(`The step was cancelled (${signal}) before it finished; see the lines above for what was undone.`);
      (this.options.exit ?? ((status: number) => process.exit(status)))(code);
    }
  }
}
