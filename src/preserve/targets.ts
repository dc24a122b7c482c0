// What a statement destroys, read from its parse tree: the table, the columns, and for a
// DELETE or UPDATE the rows, as the statement's own WHERE (deparsed from the same tree)
// selects them. A statement this module does not read returns a reason instead: the caller
// reports it as not kept, never guesses.
import type {
  AlterTableCmd,
  AlterTableStmt,
  CommonTableExpr,
  DeleteStmt,
  DropStmt,
  Node,
  RangeVar,
  ResTarget,
  TruncateStmt,
  UpdateStmt,
  WithClause,
} from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import type { PreserveKind } from './types.js';

/** A table as the statement names it: the schema is resolved against the search path later. */
export interface TableName {
  schema?: string;
  name: string;
}

export interface Target {
  kind: PreserveKind;
  table: TableName;
  /** drop-column, alter-type: the column; update: the columns it sets. */
  columns?: string[];
  /** delete, update: which rows, as SQL over `alias` (undefined: every row). */
  rows?: { alias: string; from: string[]; where?: string; with?: string };
  /** DROP ... IF EXISTS: a missing table or column is not an error. */
  missingOk?: boolean;
}

export type Reading = { targets: Target[] } | { unreadable: string };

type Body = Record<string, unknown>;

/** The targets of one statement's parse tree (`{ DeleteStmt: {...} }` and the like). */
export function targetsOf(stmt: Node): Reading {
  const [type, body] = Object.entries(stmt as Body)[0] ?? [];
  switch (type) {
    case 'DropStmt':
      return dropTargets(body as DropStmt);
    case 'TruncateStmt':
      return {
        targets: ((body as TruncateStmt).relations ?? []).map((node) => ({
          kind: 'truncate' as const,
          table: tableOf((node as { RangeVar: RangeVar }).RangeVar),
        })),
      };
    case 'AlterTableStmt':
      return alterTargets(body as AlterTableStmt);
    case 'DeleteStmt':
      return deleteTargets(body as DeleteStmt);
    case 'UpdateStmt':
      return updateTargets(body as UpdateStmt);
    default:
      return { unreadable: `a ${type ?? 'statement'} is not one of the statements whose data is kept` };
  }
}

function tableOf(relation: RangeVar | undefined): TableName {
  return { ...(relation?.schemaname ? { schema: relation.schemaname } : {}), name: relation?.relname ?? '' };
}

function dropTargets(statement: DropStmt): Reading {
  if (statement.removeType !== 'OBJECT_TABLE') {
    return { unreadable: `DROP ${String(statement.removeType).replace('OBJECT_', '')} is not a table` };
  }
  const targets = (statement.objects ?? []).map((object): Target => {
    const parts = ((object as { List?: { items?: Node[] } }).List?.items ?? []).map(
      (item) => (item as { String?: { sval?: string } }).String?.sval ?? '',
    );
    const name = parts.at(-1) ?? '';
    const schema = parts.length > 1 ? parts.at(-2) : undefined;
    return {
      kind: 'drop-table',
      table: schema ? { schema, name } : { name },
      ...(statement.missing_ok ? { missingOk: true } : {}),
    };
  });
  return { targets };
}

function alterTargets(statement: AlterTableStmt): Reading {
  if (statement.objtype !== 'OBJECT_TABLE') return { targets: [] };
  const table = tableOf(statement.relation);
  const targets: Target[] = [];
  for (const node of statement.cmds ?? []) {
    const command = (node as { AlterTableCmd?: AlterTableCmd }).AlterTableCmd;
    if (!command?.name) continue;
    if (command.subtype === 'AT_DropColumn') {
      targets.push({
        kind: 'drop-column',
        table,
        columns: [command.name],
        ...(command.missing_ok || statement.missing_ok ? { missingOk: true } : {}),
      });
    } else if (command.subtype === 'AT_AlterColumnType') {
      targets.push({ kind: 'alter-type', table, columns: [command.name] });
    }
  }
  return { targets };
}

/** The rows a DELETE or UPDATE selects: its WHERE over its own table alias and USING/FROM list. */
function selection(
  relation: RangeVar | undefined,
  extra: Node[] | undefined,
  where: Node | undefined,
  withClause: WithClause | undefined,
): Target['rows'] | string {
  if (where && 'CurrentOfExpr' in (where as Body)) return 'WHERE CURRENT OF names a cursor, not rows';
  // The copy runs the WITH clause too: only when it only reads, or the copy would do what it does.
  const queries = (withClause?.ctes ?? []).map(
    (node) => Object.keys(((node as { CommonTableExpr?: CommonTableExpr }).CommonTableExpr?.ctequery ?? {}) as Body)[0],
  );
  if (queries.some((type) => type !== 'SelectStmt'))
    return 'its WITH clause changes data itself, so the rows cannot be selected without changing them';
  return {
    alias: relation?.alias?.aliasname ?? relation?.relname ?? '',
    from: (extra ?? []).map((node) => deparseSync(node)),
    ...(where ? { where: deparseSync(where) } : {}),
    ...(withClause ? { with: deparseSync({ WithClause: withClause }) } : {}),
  };
}

function deleteTargets(statement: DeleteStmt): Reading {
  const rows = selection(statement.relation, statement.usingClause, statement.whereClause, statement.withClause);
  if (typeof rows === 'string') return { unreadable: rows };
  return { targets: [{ kind: 'delete', table: tableOf(statement.relation), rows }] };
}

function updateTargets(statement: UpdateStmt): Reading {
  const rows = selection(statement.relation, statement.fromClause, statement.whereClause, statement.withClause);
  if (typeof rows === 'string') return { unreadable: rows };
  const columns = [
    ...new Set((statement.targetList ?? []).map((node) => (node as { ResTarget?: ResTarget }).ResTarget?.name ?? '')),
  ].filter(Boolean);
  return { targets: [{ kind: 'update', table: tableOf(statement.relation), columns, rows }] };
}
