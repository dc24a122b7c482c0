import type { MigrationFile } from './source.js';
import type { AppliedMigration } from './plan.js';
import {
  advisoryKey,
  findLockHolders,
  lockTableName,
  qualified,
  readKnexLockRow,
  releaseAdvisoryLock,
  tryAdvisoryLock,
  type KnexLockRow,
  type LockHolder,
  type Session,
} from './lock.js';
import { readApplied, readStatus, type StatusSnapshot } from './status.js';

/**
 * One project's migrations table on one session: its status, Knex's lock row beside it, the
 * rollback's advisory lock, and the names a reviewer reads. Every query of the action's own
 * (never a migration's) goes through here.
 */
export class MigrationsTable {
  readonly key: [number, number];

  constructor(
    readonly session: Session,
    readonly schema: string,
    readonly table: string,
  ) {
    this.key = advisoryKey(schema, table);
  }

  /** The same table on another session (a fresh one after the first was lost, say). */
  on(session: Session): MigrationsTable {
    return new MigrationsTable(session, this.schema, this.table);
  }

  /** `schema.table_lock`, as shown to a reviewer. */
  get lockTable(): string {
    return `${this.schema}.${lockTableName(this.table)}`;
  }

  /** The tables whose reads and writes are Knex's bookkeeping, not a migration's work. */
  get bookkeepingTables(): string[] {
    return [this.table, lockTableName(this.table)].map((table) => `${this.schema}.${table}`);
  }

  readStatus(files: readonly MigrationFile[]): Promise<StatusSnapshot> {
    return readStatus(this.session, this.schema, this.table, files);
  }

  readApplied(): Promise<AppliedMigration[]> {
    return readApplied(this.session, this.schema, this.table);
  }

  /** Knex's lock row; with forUpdate, locked for this transaction (bounded by lock_timeout). */
  readLockRow(options: { forUpdate?: boolean } = {}): Promise<KnexLockRow> {
    return readKnexLockRow(this.session, this.schema, this.table, options);
  }

  holders(): Promise<LockHolder[]> {
    return findLockHolders(this.session, this.schema, this.table);
  }

  tryAdvisoryLock(): Promise<boolean> {
    return tryAdvisoryLock(this.session, this.key);
  }

  releaseAdvisoryLock(): Promise<void> {
    return releaseAdvisoryLock(this.session, this.key);
  }

  /** Sets is_locked = 0 on Knex's lock row; the number of rows changed. */
  async freeLockRow(): Promise<number> {
    const updated = (await this.session.query(
      `UPDATE ${qualified(this.schema, lockTableName(this.table))} SET is_locked = 0 WHERE is_locked = 1`,
    )) as { rowCount?: number | null };
    return updated.rowCount ?? 0;
  }

  /** The lock_timeout of the open transaction only (one attempt's). */
  async setLocalLockTimeout(ms: number): Promise<void> {
    await this.session.query("SELECT set_config('lock_timeout', $1, true)", [`${ms}ms`]);
  }

  async begin(mode = ''): Promise<void> {
    await this.session.query(mode ? `BEGIN ${mode}` : 'BEGIN');
  }

  async commit(): Promise<void> {
    await this.session.query('COMMIT');
  }

  async rollback(): Promise<void> {
    await this.session.query('ROLLBACK').catch(() => undefined);
  }
}
