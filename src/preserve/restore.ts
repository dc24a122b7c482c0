// mode restore-data: puts a run's copies back, after the migrations were re-applied, in one
// transaction. Rows by INSERT ... ON CONFLICT DO NOTHING with their own keys and values;
// columns by key (UPDATE ... FROM the copy). Running it again changes nothing: a row already
// back conflicts, a value already back is not distinct. A dry run does the same and rolls back.
import { ConfigurationError } from '../common/errors.js';
import type { Session } from '../migrations/lock.js';
import { quoteIdentifier } from '../migrations/lock.js';
import { catalogExists, catalogSql, copySql, type CatalogRow } from './store.js';
import { columnsOf, resolveTable, type ResolvedTable } from './tables.js';
import type { RestoredCopy, RestoreReport } from './types.js';

const INSERTED = new Set(['drop-table', 'truncate', 'delete']);

/** The catalog rows of one run, in the order they were made. */
export async function copiesOf(session: Session, schema: string, id: string): Promise<CatalogRow[]> {
  if (!(await catalogExists(session, schema))) {
    throw new ConfigurationError(
      `Input "preserve-schema": schema ${schema} has no catalog of preserved copies (${schema}.catalog does not exist), so there is nothing to restore. Give the preserve-schema the rollback ran with.`,
    );
  }
  const { rows } = await session.query<CatalogRow>(
    `SELECT * FROM ${catalogSql(schema)} WHERE preserve_id = $1 ORDER BY position`,
    [id],
  );
  if (rows.length === 0) {
    const { rows: recent } = await session.query<{ preserve_id: string }>(
      `SELECT preserve_id FROM ${catalogSql(schema)} GROUP BY preserve_id ORDER BY max(created_at) DESC LIMIT 5`,
    );
    throw new ConfigurationError(
      `Input "preserve-id" is "${id}": no copies with that id in ${schema}.catalog. The most recent ids there: ${recent.map((row) => row.preserve_id).join(', ') || 'none'}. Nothing was changed.`,
    );
  }
  return rows;
}

/** Restores every copy of `id`; refuses, changing nothing, when a target table or column is not there yet. */
export async function restoreData(
  session: Session,
  schema: string,
  id: string,
  dryRun: boolean,
): Promise<RestoreReport> {
  await session.query('BEGIN');
  try {
    const copies = await copiesOf(session, schema, id);
    const targets = await checkTargets(session, copies);
    const restored: RestoredCopy[] = [];
    const sequences: string[] = [];
    // Parents were dropped after their children (foreign keys): put back in reverse.
    for (const copy of [...copies].reverse()) {
      const table = targets.get(copy.copy_table)!;
      restored.unshift(await restoreCopy(session, schema, copy, table));
      if (!dryRun && INSERTED.has(copy.kind) && copy.key_columns.length > 0)
        sequences.push(...(await advanceSequences(session, table)));
    }
    await session.query(dryRun ? 'ROLLBACK' : 'COMMIT');
    return { id, schema, dryRun, copies: restored, sequences: [...new Set(sequences)] };
  } catch (error) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Every target table and column must exist: the fix (the re-applied migration) creates them. */
async function checkTargets(session: Session, copies: CatalogRow[]): Promise<Map<string, ResolvedTable>> {
  const found = new Map<string, ResolvedTable>();
  for (const copy of copies) {
    const source = `${copy.source_schema}.${copy.source_table}`;
    const table = await resolveTable(session, { schema: copy.source_schema, name: copy.source_table });
    const reapply = `Re-apply migration ${copy.migration} (deploy the fix and run the migrations), then run mode restore-data again. Nothing was changed.`;
    if (!table)
      throw new ConfigurationError(`Cannot restore ${copy.copy_table}: table ${source} does not exist. ${reapply}`);
    const present = new Set((await columnsOf(session, table.oid)).map((column) => column.name));
    const missing = [...copy.key_columns, ...copy.columns].filter((column) => !present.has(column));
    if (missing.length > 0) {
      throw new ConfigurationError(
        `Cannot restore ${copy.copy_table}: ${source} has no column ${[...new Set(missing)].join(', ')}. ${reapply}`,
      );
    }
    found.set(copy.copy_table, table);
  }
  return found;
}

async function restoreCopy(
  session: Session,
  schema: string,
  copy: CatalogRow,
  table: ResolvedTable,
): Promise<RestoredCopy> {
  const base = { copy: copy.copy_table, source: table.label, kind: copy.kind };
  const total = Number(copy.rows);
  const from = copySql(schema, copy.copy_table);
  if (copy.key_columns.length === 0) {
    return {
      ...base,
      restored: 0,
      skipped: total,
      note: `${table.label} had no primary key or unique not-null key: whole rows were kept in ${schema}.${copy.copy_table}; restore them by hand.`,
    };
  }
  const typed = await castsTo(session, table);
  if (INSERTED.has(copy.kind)) {
    const generated = new Set(
      (await columnsOf(session, table.oid)).filter((column) => column.generated).map((column) => column.name),
    );
    const names = copy.columns.filter((column) => !generated.has(column));
    const result = (await session.query(
      `INSERT INTO ${table.sql} (${names.map(quoteIdentifier).join(', ')}) OVERRIDING SYSTEM VALUE
       SELECT ${names.map((name) => typed('p', name)).join(', ')} FROM ${from} AS p ON CONFLICT DO NOTHING`,
    )) as { rowCount?: number | null };
    const restored = result.rowCount ?? 0;
    return {
      ...base,
      restored,
      skipped: total - restored,
      ...(total > restored ? { note: 'a row with that key exists' } : {}),
    };
  }
  const restored = await updateByKey(session, copy, table, from, typed);
  return {
    ...base,
    restored,
    skipped: total - restored,
    ...(total > restored
      ? { note: 'the value is already back, was written since the re-apply, or no row has that key' }
      : {}),
  };
}

/** Columns back by key; a dropped column only where the re-applied column still holds its default. */
async function updateByKey(
  session: Session,
  copy: CatalogRow,
  table: ResolvedTable,
  from: string,
  typed: Typed,
): Promise<number> {
  const columns = copy.columns.filter((column) => !copy.key_columns.includes(column));
  const set = columns.map((column) => `${quoteIdentifier(column)} = ${typed('p', column)}`).join(', ');
  const match = copy.key_columns.map((column) => `t.${quoteIdentifier(column)} = ${typed('p', column)}`);
  const differs = `(${columns.map((c) => `t.${quoteIdentifier(c)}`).join(', ')}) IS DISTINCT FROM (${columns.map((c) => typed('p', c)).join(', ')})`;
  const conditions = [...match, differs];
  if (copy.kind === 'drop-column') conditions.push(await untouched(session, table, columns[0]));
  const result = (await session.query(
    `UPDATE ${table.sql} AS t SET ${set} FROM ${from} AS p WHERE ${conditions.join(' AND ')}`,
  )) as { rowCount?: number | null };
  return result.rowCount ?? 0;
}

/** `alias.column` cast to the target column's type. */
type Typed = (alias: string, column: string) => string;

/**
 * Copies keep user-defined types (enums, domains, extension types) as text, so the copy never
 * depends on a type a down() drops: on the way back every value is cast to the column's type
 * as the re-applied migration made it (a no-op where the types already match).
 */
async function castsTo(session: Session, table: ResolvedTable): Promise<Typed> {
  const types = new Map((await columnsOf(session, table.oid)).map((column) => [column.name, column.type]));
  return (alias, column) => `${alias}.${quoteIdentifier(column)}::${types.get(column) ?? 'text'}`;
}

/** A value written after the re-apply is newer than the copy's: only NULL or the column's default is overwritten. */
async function untouched(session: Session, table: ResolvedTable, column: string): Promise<string> {
  const { rows } = await session.query<{ expression: string | null }>(
    `SELECT pg_get_expr(d.adbin, d.adrelid) AS expression FROM pg_attrdef d
       JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
      WHERE d.adrelid = $1 AND a.attname = $2`,
    [table.oid, column],
  );
  const expression = rows[0]?.expression;
  const quoted = `t.${quoteIdentifier(column)}`;
  // A default that draws from a sequence would advance it once per row compared.
  if (!expression || /nextval\(/i.test(expression)) return `${quoted} IS NULL`;
  return `(${quoted} IS NULL OR ${quoted} IS NOT DISTINCT FROM (${expression}))`;
}

/** Moves each sequence that feeds the table past the highest restored value, never back. */
async function advanceSequences(session: Session, table: ResolvedTable): Promise<string[]> {
  const advanced: string[] = [];
  for (const column of await columnsOf(session, table.oid)) {
    const { rows } = await session.query<{ sequence: string | null }>(
      'SELECT pg_get_serial_sequence($1, $2) AS sequence',
      [table.sql, column.name],
    );
    const sequence = rows[0]?.sequence;
    if (!sequence) continue;
    const { rows: moved } = await session.query<{ value: string }>(
      `SELECT setval($1::regclass, m) AS value
         FROM (SELECT max(${quoteIdentifier(column.name)})::bigint AS m FROM ${table.sql}) s,
              (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS current FROM ${sequence}) q
        WHERE m IS NOT NULL AND m > q.current`,
      [sequence],
    );
    if (moved.length > 0) advanced.push(`${sequence} -> ${moved[0].value}`);
  }
  return advanced;
}
