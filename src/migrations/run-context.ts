// What a run that may change something works with, and the step every one of its transactions
// begins with (Knex's lock row): shared by locked-run.ts, atomic-run.ts and segmented-run.ts
// without an import cycle between them.
import type { Knex } from 'knex';
import type pg from 'pg';
import { holdersAsBlockers, type Blocker } from './blockers.js';
import type { StatementGuard } from './guard.js';
import { holderChecks, isLockTimeout, type LockHolder } from './lock.js';
import { LockWaitTimeout, type LockAttempts } from './lock-retry.js';
import type { MigrationsTable } from './migrations-table.js';
import { RollbackFailure, type RollbackOptions } from './run-types.js';
import type { MigrationFile } from './source.js';
import type { StatusSnapshot } from './status.js';

/** What a run that may change something works with. */
export interface RunContext {
  knex: Knex;
  /** The run's dedicated session (Knex runs the rollback's transaction on it). */
  session: pg.Client;
  /** The migrations table on the run's dedicated session, which holds the advisory lock. */
  table: MigrationsTable;
  options: RollbackOptions;
  files: MigrationFile[];
  /** Checks every statement the run's sessions send. */
  guard: StatementGuard;
  /** Reads the status on a fresh session (the dedicated one may have been terminated). */
  freshStatus(): Promise<StatusSnapshot>;
  /** The run's attempts: one budget and one count over all its transactions. */
  attempts: LockAttempts;
  /** Migrations whose down() committed so far, for a cancelled run's last words. */
  committed: string[];
}

/** Locks Knex's lock row for this transaction and refuses when Knex's flag is set. */
export async function lockKnexRow(trx: Knex.Transaction, context: RunContext): Promise<void> {
  const { table } = context;
  let row;
  try {
    row = await table.readLockRow({ forUpdate: true });
  } catch (error) {
    if (!isLockTimeout(error)) throw error;
    await trx.rollback().catch(() => undefined);
    // A knex migrate holds the row while it runs: worth another attempt, within lock-wait-budget.
    const holders = await table.holders().catch(() => []);
    throw new LockWaitTimeout(`Knex's lock row in ${table.lockTable}`, await blockersOf(context, holders), error);
  }
  if (!row.isLocked) return;
  await trx.rollback().catch(() => undefined);
  const holders = await table.holders();
  if (holders.length > 0) {
    // A migration is running and holds the flag: it will clear it when done, so this is a wait too.
    throw new LockWaitTimeout(
      `Knex's migration lock (${table.lockTable}.is_locked = 1)`,
      await blockersOf(context, holders),
    );
  }
  throw new RollbackFailure(
    `Knex's migration lock (${table.lockTable}.is_locked = 1) is set, but no session holds it: a crashed or killed run left it behind (Knex records no owner). Nothing was changed. Check that no migration is running, then run mode: unlock with force-unlock: true.`,
    { lockChecks: [`${table.lockTable}: is_locked = 1`, ...holderChecks(holders)] },
  );
}

/** The holders as the attempt's blockers; without their queries when those cannot be read now. */
function blockersOf(context: RunContext, holders: LockHolder[]): Promise<Blocker[]> {
  const showQueries = context.options.showBlockerQueries;
  return holdersAsBlockers(context.table.session, holders, { showQueries }).catch(() =>
    holdersAsBlockers(context.table.session, holders, { showQueries: false }),
  );
}
