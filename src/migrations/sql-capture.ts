import type { EventEmitter } from 'node:events';
import { renderStatement } from './render-sql.js';

/** One statement a transaction sent to the server, with its bindings written in. */
export interface CapturedStatement {
  sql: string;
  /** The migration whose down() was running when it was sent (undefined: Knex's own bookkeeping between downs). */
  migration?: string;
  /** The server's error, when this statement failed. */
  error?: string;
}

interface KnexQueryEvent {
  sql: string;
  bindings?: readonly unknown[];
}

// Transaction control is ours (or the savepoints of Knex's lock-row helper and of a migration that sets
// config.transaction: true): not part of what a migration does.
const TRANSACTION_CONTROL = /^\s*(begin|commit|rollback|savepoint|release)\b/i;

/**
 * Records the exact SQL a Knex transaction runs, through Knex's own 'query' and
 * 'query-error' events (the transaction forwards those of nested savepoints).
 * The migration a statement belongs to comes from the MigrationTracker.
 */
export class SqlCapture {
  readonly statements: CapturedStatement[] = [];
  private readonly onQuery = (event: KnexQueryEvent): void => {
    if (TRANSACTION_CONTROL.test(event.sql)) return;
    this.statements.push({ sql: this.render(event), migration: this.tracker.current });
  };
  private readonly onQueryError = (error: Error, event: KnexQueryEvent): void => {
    if (TRANSACTION_CONTROL.test(event.sql)) return;
    const sql = this.render(event);
    // The 'query' event came first for the same statement: mark it rather than add a second entry.
    const last = [...this.statements].reverse().find((statement) => statement.sql === sql && !statement.error);
    const reason = serverMessage(error, [event.sql, sql]);
    if (last) last.error = reason;
    else this.statements.push({ sql, migration: this.tracker.current, error: reason });
  };

  constructor(
    private readonly emitter: EventEmitter,
    private readonly tracker: MigrationTracker,
  ) {
    emitter.on('query', this.onQuery);
    emitter.on('query-error', this.onQueryError);
  }

  stop(): void {
    this.emitter.off('query', this.onQuery);
    this.emitter.off('query-error', this.onQueryError);
  }

  /**
   * The statement that failed first, if any. In PostgreSQL the first error aborts the
   * transaction, and every later statement (Knex freeing its lock row on the way out, say)
   * fails only with "current transaction is aborted": the first one is the cause.
   */
  failed(): CapturedStatement | undefined {
    return this.statements.find((statement) => statement.error);
  }

  /** Knex positions pg bindings as $1..$n before emitting; write them in. */
  private render(event: KnexQueryEvent): string {
    return renderStatement(event.sql, event.bindings ?? []);
  }
}

/** Knex prefixes the SQL to a driver error's message; keep only the server's words. */
export function serverMessage(error: unknown, sqlForms: readonly string[] = []): string {
  const message = error instanceof Error ? error.message : String(error);
  for (const sql of sqlForms) if (message.startsWith(`${sql} - `)) return message.slice(sql.length + 3);
  // Without the SQL at hand (an error that did not come from a captured query), keep it whole.
  return message;
}

/** Which migration's down() is running now: set by the tracking migration source. */
export class MigrationTracker {
  current: string | undefined;
  readonly started: string[] = [];
  readonly finished: string[] = [];
  /** Called when a down() returns: a progress line per migration. */
  constructor(readonly onFinish?: (name: string, elapsedMs: number) => void) {}
}
