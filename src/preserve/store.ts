// Where copies live: a schema of their own with a catalog table that lists them. Both hold
// production data, so nobody but the owner (and superusers) reads them: every privilege is
// revoked from PUBLIC and row-level security is on with no policy, which denies every other
// role that is later granted access by mistake.
import type { Session } from '../migrations/lock.js';
import { quoteIdentifier } from '../migrations/lock.js';
import type { CopyReport } from './types.js';

export const CATALOG = 'catalog';

export function catalogSql(schema: string): string {
  return `${quoteIdentifier(schema)}.${CATALOG}`;
}

export function copySql(schema: string, copy: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(copy)}`;
}

/** Whether the preserve schema and its catalog exist (restore and prune read, never create). */
export async function catalogExists(session: Session, schema: string): Promise<boolean> {
  const { rows } = await session.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    catalogSql(schema),
  ]);
  return rows[0]?.found === true;
}

/** Creates the schema and the catalog when they are missing, closed to everyone but the owner. */
export async function ensureStore(session: Session, schema: string): Promise<void> {
  const quoted = quoteIdentifier(schema);
  await session.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
  await session.query(`REVOKE ALL ON SCHEMA ${quoted} FROM PUBLIC`);
  await session.query(
    `CREATE TABLE IF NOT EXISTS ${catalogSql(schema)} (
       preserve_id text NOT NULL,
       copy_table text NOT NULL,
       position integer NOT NULL,
       migration text NOT NULL,
       statement text NOT NULL,
       source_schema text NOT NULL,
       source_table text NOT NULL,
       kind text NOT NULL,
       key_columns text[] NOT NULL,
       columns text[] NOT NULL,
       rows bigint NOT NULL,
       bytes bigint NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (preserve_id, copy_table)
     )`,
  );
  await closeTable(session, catalogSql(schema));
}

/** No PUBLIC privilege, and row-level security with no policy: deny by default. */
export async function closeTable(session: Session, table: string): Promise<void> {
  await session.query(`REVOKE ALL ON TABLE ${table} FROM PUBLIC`);
  await session.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
}

export async function addToCatalog(
  session: Session,
  schema: string,
  id: string,
  copy: CopyReport,
  source: { schema: string; name: string },
  position: number,
): Promise<void> {
  await session.query(
    `INSERT INTO ${catalogSql(schema)}
       (preserve_id, copy_table, position, migration, statement, source_schema, source_table, kind, key_columns, columns, rows, bytes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      id,
      copy.copy,
      position,
      copy.migration,
      copy.statement,
      source.schema,
      source.name,
      copy.kind,
      copy.keyColumns,
      copy.columns,
      copy.rows,
      copy.bytes,
    ],
  );
}

export interface CatalogRow {
  preserve_id: string;
  copy_table: string;
  position: number;
  migration: string;
  statement: string;
  source_schema: string;
  source_table: string;
  kind: CopyReport['kind'];
  key_columns: string[];
  columns: string[];
  rows: string;
  bytes: string;
  created_at: Date;
}
