// Classifies SQL statements by what they can destroy, with PostgreSQL's own grammar
// (libpg-query: the server's parser compiled to WebAssembly). A regular expression cannot
// tell `DROP TABLE` from a string literal that mentions it, nor see the DELETE hidden in a
// CTE; the parse tree can. Whatever the parser cannot read, or whose effect cannot be read
// from the statement itself (a DO block, a CALL), counts as destructive: the guard that
// uses this must fail closed. The parser runs in a helper process (parser-process.ts says why).
//
// The concerns live apart: split.ts (statements out of query strings), rules.ts with
// handlers.ts and ddl-rules.ts (what a statement does), describe.ts (naming it), risk.ts
// (the verdicts and how they rank).
import { startParser } from './parser-process.js';
import type { ClassifiedStatement, ClassifyOptions } from './risk.js';
import { classifyTree, writesOfTree } from './rules.js';
import { splitStatements } from './split.js';
import type { TableWrite } from './walk.js';

export type { ClassifiedStatement, ClassifyOptions, StatementRisk } from './risk.js';
export type { RowWrite, TableWrite } from './walk.js';

/**
 * Splits every input into its statements and classifies each one. One input string may
 * hold several statements; the result has one entry per statement, in order.
 */
export async function classifyStatements(
  statements: readonly string[],
  options: ClassifyOptions = {},
): Promise<ClassifiedStatement[]> {
  return (await classifyEach(statements, options)).flat();
}

/**
 * Like classifyStatements, but keeps the results of each input apart: one array per input,
 * in order (empty for an input with no statement). One round trip to the parser for all
 * of them, where a call per input costs one each: use it to classify many captured
 * statements while keeping each verdict attached to where it came from.
 */
export async function classifyEach(
  statements: readonly string[],
  options: ClassifyOptions = {},
): Promise<ClassifiedStatement[][]> {
  const bookkeeping = new Set((options.bookkeepingTables ?? []).map(qualifyOption));
  const pieces = await splitStatements(statements);
  return pieces.map((ofInput) =>
    ofInput.map((piece) =>
      piece.stmt ? classifyTree(piece.sql, piece.stmt, bookkeeping) : unparseable(piece.sql, piece.error),
    ),
  );
}

/**
 * Which tables each input writes, and how (insert, update, delete, truncate), by the rules
 * that classify it: a DELETE inside a CTE counts, one inside a rule or function body (run
 * later, if ever) does not, nor does a string that mentions one. One array per input, its
 * statements' writes together, in one round trip to the parser; a statement the parser
 * cannot read writes to no table it can name.
 */
export async function tableWritesEach(statements: readonly string[]): Promise<TableWrite[][]> {
  const pieces = await splitStatements(statements);
  return pieces.map((ofInput) => ofInput.flatMap((piece) => (piece.stmt ? writesOfTree(piece.stmt) : [])));
}

/**
 * Optional: starts the parser ahead of the first classifyStatements call (say, when a
 * rollback begins), so its start-up overlaps the database work instead of following it.
 */
export function warmUpClassifier(): void {
  startParser();
}

function qualifyOption(table: string): string {
  return table.includes('.') ? table : `public.${table}`;
}

function unparseable(sql: string, error: string | undefined): ClassifiedStatement {
  return {
    sql,
    risk: 'destructive',
    reasons: [`could not be parsed as PostgreSQL (${error ?? 'unknown error'}), so what it does cannot be checked`],
  };
}
