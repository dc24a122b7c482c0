// The catalog facts preservation needs about a table: where the statement's name resolves to
// on this session, its columns, and the key rows are matched by when they are put back.
import type { Session } from '../migrations/lock.js';
import { quoteIdentifier } from '../migrations/lock.js';
import type { TableName } from './targets.js';

export interface ResolvedTable {
  oid: number;
  schema: string;
  name: string;
  /** "schema"."name", ready for SQL. */
  sql: string;
  /** schema.name, for people. */
  label: string;
  /** The size of the table's main fork: 0 when no row was ever written to it. */
  heapBytes: number;
}

/** The table a statement names, resolved as the server resolves it (search_path); undefined when there is none. */
export async function resolveTable(session: Session, table: TableName): Promise<ResolvedTable | undefined> {
  const written = table.schema
    ? `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`
    : quoteIdentifier(table.name);
  const { rows } = await session.query<{ oid: number; schema: string; name: string; heap_bytes: string }>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, pg_relation_size(c.oid) AS heap_bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')`,
    [written],
  );
  const found = rows[0];
  if (!found) return undefined;
  return {
    oid: found.oid,
    schema: found.schema,
    name: found.name,
    heapBytes: Number(found.heap_bytes),
    sql: `${quoteIdentifier(found.schema)}.${quoteIdentifier(found.name)}`,
    label: `${found.schema}.${found.name}`,
  };
}

export interface Column {
  name: string;
  /** The type as SQL (format_type), for the cast back on restore. */
  type: string;
  /**
   * A type outside pg_catalog (an enum, a domain, an extension's type, an array of one): a
   * copy keeps such a column as text, so the copy does not depend on the type and a down()
   * can still drop it.
   */
  userType: boolean;
  generated: boolean;
}

/** The table's columns in order (dropped ones excluded). */
export async function columnsOf(session: Session, oid: number): Promise<Column[]> {
  const { rows } = await session.query<{ name: string; type: string; user_type: boolean; generated: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            t.typnamespace <> 'pg_catalog'::regnamespace AS user_type, a.attgenerated <> '' AS generated
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  return rows.map((row) => ({ name: row.name, type: row.type, userType: row.user_type, generated: row.generated }));
}

/**
 * The key rows are put back by: the primary key, else the smallest unique index over
 * not-null plain columns (no expression, no predicate). `avoid` are columns the statement
 * destroys or changes: a key containing one could not find the row again. Empty: no usable key.
 */
export async function keyOf(session: Session, oid: number, avoid: readonly string[] = []): Promise<string[]> {
  const { rows } = await session.query<{ columns: string[] }>(
    `SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
      GROUP BY i.indexrelid, i.indisprimary
     HAVING bool_and(a.attnotnull) AND NOT bool_or(a.attname = ANY ($2::text[]))
      ORDER BY i.indisprimary DESC, count(*), i.indexrelid
      LIMIT 1`,
    [oid, [...avoid]],
  );
  return rows[0]?.columns ?? [];
}

/**
 * Whether the table's main fork is empty: no row was ever written to it, committed or not (an
 * insert extends the file before it commits). Asked under the copy's lock, nobody can add one.
 */
export async function neverWritten(session: Session, oid: number): Promise<boolean> {
  const { rows } = await session.query<{ empty: boolean }>('SELECT pg_relation_size($1::oid) = 0 AS empty', [oid]);
  return rows[0]?.empty === true;
}
