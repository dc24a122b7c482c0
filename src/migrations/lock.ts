import crypto from 'node:crypto';

/** The little of pg.Client this module needs: queries on one dedicated session. */
export interface Session {
  query<Row extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
}

/** A session that holds, or may hold, the migration lock, as pg_stat_activity describes it. */
export interface LockHolder {
  pid: number;
  applicationName: string;
  clientAddress: string | null;
  user: string | null;
  connectedSince: string | null;
  transactionSince: string | null;
  state: string | null;
  /** What it holds: the advisory lock, or a lock on one of the migrations tables. */
  holds: string;
}

/** The Knex lock table's name for a migrations table (Knex: `${tableName}_lock`). */
export function lockTableName(tableName: string): string {
  return `${tableName}_lock`;
}

/** A quoted identifier: names from inputs are data, never spliced into SQL as written. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(schema: string, table: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
}

// The first key is fixed so our locks are recognisable in pg_locks (classid); the second
// is derived from schema + table so two projects' migration tables do not block each other.
const NAMESPACE_KEY = 0x4b4e5852; // "KNXR"

/** The two-int advisory lock key for one migrations table; both halves positive so pg_locks shows them as written. */
export function advisoryKey(schema: string, table: string): [number, number] {
  const digest = crypto.createHash('sha256').update(`${schema}\u0000${table}`).digest();
  return [NAMESPACE_KEY, digest.readUInt32BE(0) & 0x7fffffff];
}

/** Tries the session-level advisory lock without waiting. */
export async function tryAdvisoryLock(session: Session, key: [number, number]): Promise<boolean> {
  const { rows } = await session.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock($1::int, $2::int) AS locked',
    key,
  );
  return rows[0].locked === true;
}

export async function releaseAdvisoryLock(session: Session, key: [number, number]): Promise<void> {
  await session.query('SELECT pg_advisory_unlock($1::int, $2::int)', key);
}

/**
 * Sessions other than this one that hold the advisory lock, or a lock stronger than a
 * plain read on the migrations or lock table (Knex's own CLI holds those while it runs,
 * and a run that locked the lock row FOR UPDATE holds RowShareLock on the lock table).
 */
export async function findLockHolders(session: Session, schema: string, tableName: string): Promise<LockHolder[]> {
  const [classId, objectId] = advisoryKey(schema, tableName);
  const { rows } = await session.query<HolderRow>(
    `SELECT DISTINCT ON (a.pid, holds) a.pid, a.application_name, a.client_addr::text AS client_addr, a.usename,
            a.backend_start, a.xact_start, a.state, x.holds
       FROM (
         SELECT l.pid, 'the rollback advisory lock' AS holds
           FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 2
         UNION ALL
         SELECT l.pid, l.mode || ' on ' || l.relation::regclass::text
           FROM pg_locks l
          WHERE l.locktype = 'relation' AND l.granted AND l.mode <> 'AccessShareLock'
            -- relation OIDs are per database: the same OID elsewhere on the server is another table
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.relation IN (to_regclass(format('%I.%I', $3::text, $4::text)), to_regclass(format('%I.%I', $3::text, $5::text)))
       ) x
       JOIN pg_stat_activity a ON a.pid = x.pid
      WHERE x.pid <> pg_backend_pid()
      ORDER BY a.pid, holds`,
    [classId, objectId, schema, tableName, lockTableName(tableName)],
  );
  return rows.map((row) => ({
    pid: Number(row.pid),
    applicationName: row.application_name ?? '',
    clientAddress: row.client_addr ?? null,
    user: row.usename ?? null,
    connectedSince: toIso(row.backend_start),
    transactionSince: toIso(row.xact_start),
    state: row.state ?? null,
    holds: row.holds,
  }));
}

interface HolderRow {
  pid: number | string;
  application_name: string | null;
  client_addr: string | null;
  usename: string | null;
  backend_start: Date | string | null;
  xact_start: Date | string | null;
  state: string | null;
  holds: string;
}

function toIso(value: Date | string | null): string | null {
  if (value instanceof Date) return value.toISOString();
  return value ?? null;
}

export function describeHolder(holder: LockHolder): string {
  const parts = [
    `pid ${holder.pid}`,
    `application_name ${JSON.stringify(holder.applicationName)}`,
    `client ${holder.clientAddress ?? 'local socket'}`,
    holder.user ? `user ${holder.user}` : undefined,
    holder.connectedSince ? `connected since ${holder.connectedSince}` : undefined,
    holder.transactionSince ? `in a transaction since ${holder.transactionSince}` : undefined,
    holder.state ? `state ${holder.state}` : undefined,
  ].filter(Boolean);
  return `${parts.join(', ')} (holds ${holder.holds})`;
}

export interface KnexLockRow {
  /** Whether the lock table exists at all (a database Knex never migrated has none). */
  tableExists: boolean;
  /** is_locked of Knex's lock row; false when there is no row. */
  isLocked: boolean;
  rows: number;
}

export async function tableExists(session: Session, schema: string, table: string): Promise<boolean> {
  const { rows } = await session.query<{ present: boolean }>(
    `SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL AS present`,
    [schema, table],
  );
  return rows[0].present === true;
}

/** Reads Knex's lock row; with forUpdate, locks it for this transaction (bounded by the session's lock_timeout). */
export async function readKnexLockRow(
  session: Session,
  schema: string,
  tableName: string,
  options: { forUpdate?: boolean } = {},
): Promise<KnexLockRow> {
  const lockTable = lockTableName(tableName);
  if (!(await tableExists(session, schema, lockTable))) return { tableExists: false, isLocked: false, rows: 0 };
  const { rows } = await session.query<{ is_locked: number | string }>(
    `SELECT is_locked FROM ${qualified(schema, lockTable)}${options.forUpdate ? ' FOR UPDATE' : ''}`,
  );
  return { tableExists: true, isLocked: rows.some((row) => Number(row.is_locked) === 1), rows: rows.length };
}

/** Whether an error is PostgreSQL's lock_timeout (55P03 lock_not_available). */
export function isLockTimeout(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === '55P03';
}

/** What a reviewer is told about who holds the migration lock, line by line. */
export function holderChecks(holders: LockHolder[]): string[] {
  return holders.length === 0
    ? [
        'No session holds the rollback advisory lock or a write lock on the migrations tables (pg_locks joined with pg_stat_activity).',
        'Not checkable: a plain `knex migrate` between two migrations holds no lock on these tables. Make sure no deploy is migrating right now.',
      ]
    : holders.map((holder) => `Held by ${describeHolder(holder)}`);
}

/** The lock timeout (55P03) behind an error of beforeDestroy, which may wrap it as its cause. */
export function lockWaitOf(error: unknown): Error | undefined {
  for (let cause = error, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++)
    if (isLockTimeout(cause)) return cause as Error;
  return undefined;
}
