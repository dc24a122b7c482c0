// The SELECT a copy is made from, and the planner's estimate of its size. The rows are the
// ones the destroying statement itself selects: its own WHERE and USING/FROM list, deparsed
// from its parse tree, over its own alias. The table is locked against writes before the copy,
// so the two select the same rows.
import type { Session } from '../migrations/lock.js';
import { quoteIdentifier } from '../migrations/lock.js';
import type { Column, ResolvedTable } from './tables.js';
import type { Target } from './targets.js';

/** Heap tuple header and line pointer: what a row costs beyond its columns' width. */
const ROW_OVERHEAD = 28;

/** The copy's SELECT: the key and `kept` columns (in that order, once each), user-defined types as text. */
export function copySelect(
  target: Target,
  table: ResolvedTable,
  columns: readonly Column[],
  names: readonly string[],
): string {
  const alias = quoteIdentifier(target.rows?.alias || table.name);
  const list = names
    .map((name) => {
      const quoted = quoteIdentifier(name);
      return columns.find((column) => column.name === name)?.userType
        ? `${alias}.${quoted}::text AS ${quoted}`
        : `${alias}.${quoted}`;
    })
    .join(', ');
  const prefix = target.rows?.with ? `${target.rows.with} ` : '';
  return `${prefix}SELECT ${list} FROM ${table.sql} AS ${alias}${whereOf(target.rows)}`;
}

function whereOf(rows: Target['rows']): string {
  if (!rows) return '';
  if (rows.from.length > 0)
    return ` WHERE EXISTS (SELECT 1 FROM ${rows.from.join(', ')} WHERE ${rows.where ?? 'true'})`;
  return rows.where ? ` WHERE ${rows.where}` : '';
}

/** Rows and bytes as the planner expects them; for a whole table, no less than what the table takes on disk. */
export async function estimate(
  session: Session,
  select: string,
  wholeTable: number | undefined,
): Promise<{ rows: number; bytes: number }> {
  const { rows } = await session.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number; 'Plan Width': number } }] }>(
    `EXPLAIN (FORMAT JSON) ${select}`,
  );
  const plan = rows[0]['QUERY PLAN'][0].Plan;
  let estimated = {
    rows: Math.round(plan['Plan Rows']),
    bytes: Math.round(plan['Plan Rows'] * (plan['Plan Width'] + ROW_OVERHEAD)),
  };
  if (wholeTable !== undefined) {
    const { rows: sizes } = await session.query<{ bytes: string; tuples: number }>(
      'SELECT pg_table_size($1::oid) AS bytes, greatest(reltuples, 0)::float8 AS tuples FROM pg_class WHERE oid = $1',
      [wholeTable],
    );
    estimated = {
      rows: Math.max(estimated.rows, Math.round(sizes[0]?.tuples ?? 0)),
      bytes: Math.max(estimated.bytes, Number(sizes[0]?.bytes ?? 0)),
    };
  }
  return estimated;
}
