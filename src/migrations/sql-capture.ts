import type { DownFrame } from './origin.js';

/** One statement a transaction sent to the server, with its bindings written in. */
export interface CapturedStatement {
  sql: string;
  /** The migration whose down() was running when it was sent (undefined: Knex's own bookkeeping between downs). */
  migration?: string;
  /** The server's error, when this statement failed. */
  error?: string;
  /** Rows a data-changing statement (INSERT, UPDATE, DELETE, MERGE, COPY) changed, as PostgreSQL counted them. */
  rowCount?: number;
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
  /** The frame of every down() started (origin.ts): the guard attributes statements with them. */
  readonly frames: DownFrame[] = [];
  readonly started: string[] = [];
  readonly finished: string[] = [];
  /** Called when a down() returns: a progress line per migration. */
  constructor(readonly onFinish?: (name: string, elapsedMs: number) => void) {}
}
