// What the walk over one statement's parse tree collects, and how a rule notes a finding.
import type { RangeVar } from 'libpg-query';
import { qualifiedRelation } from './describe.js';
import type { Severity, StatementEffects } from './risk.js';

export interface Finding {
  risk: Severity;
  reason: string;
}

/** How a statement changes a table's rows (a MERGE or an upsert notes each way it can). */
export type RowWrite = 'insert' | 'update' | 'delete' | 'truncate';

/** One table whose rows a statement changes, and how. */
export interface TableWrite {
  write: RowWrite;
  /** As the statement names it: undefined when unqualified (the caller knows its search_path). */
  schema?: string;
  table: string;
}

/** What the walk over one statement's tree collects. */
export interface Walk {
  findings: Finding[];
  /** Every table the statement names (RangeVar), qualified. */
  relations: string[];
  /** CTE names: an unqualified reference to one is not a table. */
  cteNames: Set<string>;
  /** Whether some finding already explained a CASCADE. */
  cascadeExplained: boolean;
  sawCascade: boolean;
  bookkeeping: ReadonlySet<string>;
  effects: StatementEffects;
  /** Every table whose rows the statement changes, bookkeeping tables included. */
  writes: TableWrite[];
}

/** A rule for one kind of parse-tree node: notes what that node does. */
export type Handler = (body: object, walk: Walk) => void;

export function note(walk: Walk, risk: Severity, reason: string): void {
  walk.findings.push({ risk, reason });
}

/** Notes a CASCADE, in words that say what it reaches for this kind of statement. */
export function noteCascade(walk: Walk, behavior: string | undefined, consequence: string): void {
  if (behavior !== 'DROP_CASCADE') return;
  walk.cascadeExplained = true;
  note(walk, 'destructive', `uses CASCADE: ${consequence}`);
}

export const dropsDependents = (what: string): string =>
  `also drops whatever depends on ${what} (views, foreign keys, policies, columns of other tables), without naming it`;

export const isBookkeeping = (walk: Walk, relation: RangeVar | undefined): boolean =>
  relation !== undefined && walk.bookkeeping.has(qualifiedRelation(relation));

/** Notes that the statement changes rows of `relation`. */
export function noteWrite(walk: Walk, write: RowWrite, relation: RangeVar | undefined): void {
  if (relation?.relname) walk.writes.push({ write, schema: relation.schemaname, table: relation.relname });
}

/** Notes code the statement runs whose effect it does not show (a DO block, a procedure). */
export function noteOpaqueCode(walk: Walk, code: string): void {
  (walk.effects.opaqueCode ??= []).push(code);
}

/** Notes something a ROLLBACK cannot undo. */
export function noteIrreversible(walk: Walk, reason: string): void {
  (walk.effects.irreversible ??= []).push(reason);
}
