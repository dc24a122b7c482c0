// Before a mode reads the migrations table or changes anything: is this the database and the
// table the caller meant, and may this session write? A typo in migrations-table or schema must
// not read as "nothing applied", and a read-only credential must not fail half-way with
// PostgreSQL's raw "cannot execute ... in a read-only transaction".
import { ConfigurationError } from '../common/errors.js';
import { lockTableName, type Session } from './lock.js';
import type { MigrationsTable } from './migrations-table.js';
import type { RollbackOptions } from './run-types.js';

/**
 * Whether the mode writes (locks, a rolled-back dry run, Knex's lock row, the preserved copies), so
 * needs a session that may. restore-data and prune-data write even in a dry run: it inserts, or
 * locks the catalog FOR UPDATE, before its ROLLBACK.
 */
export function modeWrites(options: Pick<RollbackOptions, 'mode' | 'dryRun' | 'forceUnlock'>): boolean {
  const { mode } = options;
  return (
    mode === 'rollback' ||
    mode === 'down' ||
    mode === 'restore-data' ||
    mode === 'prune-data' ||
    (mode === 'plan' && options.dryRun) ||
    (mode === 'unlock' && options.forceUnlock)
  );
}

/** Whether the mode takes Knex's lock row FOR UPDATE (or frees it), so needs UPDATE on the lock table. */
function locksKnexRow(options: Pick<RollbackOptions, 'mode'>): boolean {
  return options.mode !== 'restore-data' && options.mode !== 'prune-data';
}

/**
 * Checks the migrations table exists. In status mode a missing table means no migration has
 * run here: the note says so. In every other mode it is an input error naming the table (or
 * the schema) and the tables that look like Knex's, as suggestions. Nothing is changed.
 */
export async function checkMigrationsTable(table: MigrationsTable, options: RollbackOptions): Promise<string[]> {
  const { rows } = await table.session.query<{ schema: boolean; table: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema,
            EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')) AS table`,
    [table.schema, table.table],
  );
  const found = rows[0];
  if (found?.table) return [];
  const name = `${table.schema}.${table.table}`;
  if (options.mode === 'status') {
    return [
      `No migration has run on this database: ${found?.schema ? `${name} does not exist` : `schema ${table.schema} does not exist`}. (If the project's migrations table has another name, give migrations-table and schema.)`,
    ];
  }
  const suggestions = await lookalikes(table.session);
  const hint = suggestions.length
    ? ` Tables here that look like Knex's: ${suggestions.join(', ')}.`
    : ' No table here has "migrations" in its name: is database-url the right database?';
  const input = found?.schema
    ? `Input "migrations-table" (or the knexfile's tableName): table ${name} does not exist`
    : `Input "schema" (or the knexfile's schemaName): schema ${table.schema} does not exist, so ${name} does not either`;
  throw new ConfigurationError(
    `${input} in this database, so no migration could be read as applied. Nothing was read or changed.${hint}`,
  );
}

async function lookalikes(session: Session): Promise<string[]> {
  const { rows } = await session.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND c.relname ILIKE '%migrations%' AND c.relname NOT ILIKE '%migrations_lock'
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1 LIMIT 10`,
  );
  return rows.map((row) => row.name);
}

/**
 * Refuses a read-only session before anything is locked, naming database-url and what it must be:
 * a read-only transaction, a read replica, or a role that may only read Knex's lock table (a
 * SELECT-only user without default_transaction_read_only, which would meet "permission denied").
 */
export async function checkWritable(
  table: MigrationsTable,
  options: Pick<RollbackOptions, 'mode' | 'dryRun' | 'forceUnlock'>,
): Promise<void> {
  const { rows } = await table.session.query<{
    read_only: string;
    recovery: boolean;
    may_update: boolean | null;
    role: string;
  }>(
    // has_table_privilege is NULL when the lock table does not exist (to_regclass gives NULL).
    `SELECT current_setting('transaction_read_only') AS read_only, pg_is_in_recovery() AS recovery,
            has_table_privilege(to_regclass(format('%I.%I', $1::text, $2::text)), 'UPDATE') AS may_update,
            current_user AS role`,
    [table.schema, lockTableName(table.table)],
  );
  const row = rows[0];
  const denied = locksKnexRow(options) && row?.may_update === false;
  if (row?.read_only !== 'on' && row?.recovery !== true && !denied) return;
  const why = row.recovery
    ? 'the server is a read replica (pg_is_in_recovery() is true)'
    : row.read_only === 'on'
      ? 'the session is read-only (transaction_read_only = on: default_transaction_read_only is set for this user, database or URL)'
      : `the role "${row.role}" may not UPDATE ${table.lockTable}: it is a read-only credential (SELECT only)`;
  throw new ConfigurationError(
    `Input "database-url": ${why}, and mode ${options.mode} must write (the migration lock, Knex's lock row, the downs, or the preserved copies). Give a credential that may write to the primary: in the pipeline, the gate environment's DATABASE_URL secret, not the plan job's read-only database-url. Nothing was changed.`,
  );
}
