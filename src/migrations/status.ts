import type { MigrationFile } from './source.js';
import type { AppliedMigration } from './plan.js';
import {
  findLockHolders,
  lockTableName,
  qualified,
  readKnexLockRow,
  tableExists,
  type LockHolder,
  type Session,
} from './lock.js';

/** The migration state of one database, as a reviewer reads it. */
export interface StatusSnapshot {
  /** knex_migrations rows in the order they were applied. */
  applied: AppliedMigration[];
  /** Files with no row: not applied. */
  pending: string[];
  /** Applied migrations whose file is not in the migrations directory: they cannot be rolled back from here. */
  missingFiles: string[];
  lock: LockState;
}

export interface LockState {
  table: string;
  tableExists: boolean;
  /** Knex's is_locked flag. */
  isLocked: boolean;
  /** Sessions that hold the advisory lock or a write lock on the migrations tables. */
  holders: LockHolder[];
}

/** Reads knex_migrations (empty when the table does not exist yet: nothing was ever migrated). */
export async function readApplied(session: Session, schema: string, tableName: string): Promise<AppliedMigration[]> {
  if (!(await tableExists(session, schema, tableName))) return [];
  const { rows } = await session.query<{
    id: number;
    name: string;
    batch: number;
    migration_time: Date | string | null;
  }>(`SELECT id, name, batch, migration_time FROM ${qualified(schema, tableName)} ORDER BY id`);
  return rows.map((row) => ({
    id: Number(row.id),
    name: String(row.name),
    batch: Number(row.batch),
    migrationTime:
      row.migration_time instanceof Date ? row.migration_time.toISOString() : String(row.migration_time ?? ''),
  }));
}

export async function readStatus(
  session: Session,
  schema: string,
  tableName: string,
  files: readonly MigrationFile[],
): Promise<StatusSnapshot> {
  const applied = await readApplied(session, schema, tableName);
  const lockRow = await readKnexLockRow(session, schema, tableName);
  const holders = await findLockHolders(session, schema, tableName);
  return {
    ...compareWithFiles(applied, files),
    lock: {
      table: `${schema}.${lockTableName(tableName)}`,
      tableExists: lockRow.tableExists,
      isLocked: lockRow.isLocked,
      holders,
    },
  };
}

export function compareWithFiles(
  applied: AppliedMigration[],
  files: readonly MigrationFile[],
): Pick<StatusSnapshot, 'applied' | 'pending' | 'missingFiles'> {
  const appliedNames = new Set(applied.map((row) => row.name));
  const fileNames = new Set(files.map((file) => file.name));
  return {
    applied,
    pending: files.filter((file) => !appliedNames.has(file.name)).map((file) => file.name),
    missingFiles: applied.filter((row) => !fileNames.has(row.name)).map((row) => row.name),
  };
}
