// Where a statement comes from, known without reading its text: from inside a running down()
// (and which), from a down() that already returned (a late query), from Knex's Transaction
// object (its BEGIN, COMMIT, ROLLBACK and SAVEPOINTs), or from neither (Knex's Migrator
// doing its bookkeeping between downs, or the action itself).
//
// A down() runs inside an AsyncLocalStorage frame: every query it starts, awaited or not,
// carries that frame, including one fired from a timer after down() returned. Timers a
// down() leaves pending are counted, so the run can wait for them before it commits.
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import Transaction from 'knex/lib/execution/transaction.js';

/** One call of one migration's down(). */
export interface DownFrame {
  migration: string;
  /** Set once down() has returned or thrown: a query carrying this frame now is a late query. */
  returned: boolean;
  /** Timers and immediates the down() scheduled; see hasPendingTimers. */
  pending: Set<TimerResource>;
}

/**
 * Node's Timeout and Immediate objects: `_destroyed` turns true once one has run (an interval:
 * once cleared) or was cleared. Reading it spares a destroy hook: with one enabled, Node tracks
 * the destruction of every promise, which cost about 0.04 ms per statement of a long down().
 */
type TimerResource = { _destroyed?: boolean };

const frames = new AsyncLocalStorage<DownFrame>();
const hook = createHook({
  init(_asyncId, type, _trigger, resource) {
    if (type !== 'Timeout' && type !== 'Immediate') return;
    frames.getStore()?.pending.add(resource);
  },
});
let watchers = 0;

/** Counts pending timers of downs while a run needs it (async_hooks cost nothing when disabled). */
export function watchDowns(): () => void {
  if (watchers++ === 0) hook.enable();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    if (--watchers === 0) hook.disable();
  };
}

/** Whether a timer or immediate the down() scheduled has yet to run (or be cleared). */
export function hasPendingTimers(frame: DownFrame): boolean {
  for (const timer of frame.pending) if (timer._destroyed === true) frame.pending.delete(timer);
  return frame.pending.size > 0;
}

/** Runs one migration's down() in its frame. */
export async function inDownFrame<T>(
  migration: string,
  down: () => Promise<T>,
  frame = newFrame(migration),
): Promise<T> {
  try {
    return await frames.run(frame, down);
  } finally {
    frame.returned = true;
  }
}

export function newFrame(migration: string): DownFrame {
  return { migration, returned: false, pending: new Set() };
}

export function currentFrame(): DownFrame | undefined {
  return frames.getStore();
}

/** Runs `body` outside any down()'s frame (the action's own work started from inside one, say). */
export function outsideDowns<T>(body: () => T): T {
  return frames.exit(body);
}

/** The Knex transaction sending a statement right now, if Knex's Transaction object is sending it. */
export interface KnexTransactionOrigin {
  /** A savepoint inside another transaction, not a top-level BEGIN/COMMIT/ROLLBACK. */
  nested: boolean;
}

let sending: KnexTransactionOrigin | undefined;

/**
 * Knex's Transaction.query hands its statement to the connection synchronously (through
 * the client's query, _query and pg's client.query, with no await in between), so a flag
 * set around it is still set when the guarded connection receives the statement.
 */
function recogniseKnexTransactions(): void {
  const prototype = Transaction.prototype as Transaction & { [MARK]?: true };
  if (prototype[MARK]) return;
  // Read as a plain function: it is always applied with the transaction as its this.
  const original = Reflect.get(prototype, 'query') as (this: Transaction, ...args: unknown[]) => Promise<unknown>;
  prototype.query = function (this: Transaction, ...args: Parameters<Transaction['query']>) {
    const previous = sending;
    sending = { nested: this.outerTx !== undefined && this.outerTx !== null };
    try {
      return original.apply(this, args);
    } finally {
      sending = previous;
    }
  };
  prototype[MARK] = true;
}
const MARK = Symbol.for('db-rollback-actions.knex-transaction-origin');
recogniseKnexTransactions();

export function knexTransactionSending(): KnexTransactionOrigin | undefined {
  return sending;
}
