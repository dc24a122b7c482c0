// Classifies one statement's parse tree: walks every node, lets the rules note what each
// statement node does, and ranks the findings.
import type { Node } from 'libpg-query';
import { plural, qualifiedRelation } from './describe.js';
import { HANDLERS } from './handlers.js';
import { SEVERITY_ORDER, type ClassifiedStatement, type Severity } from './risk.js';
import type { TableWrite, Walk } from './walk.js';

export function classifyTree(sql: string, stmt: Node, bookkeeping: ReadonlySet<string>): ClassifiedStatement {
  return verdictOf(sql, walkTree(stmt, bookkeeping));
}

/** The tables whose rows the statement changes, and how: the same walk and rules as its verdict. */
export function writesOfTree(stmt: Node): TableWrite[] {
  return walkTree(stmt, new Set()).writes;
}

function walkTree(stmt: Node, bookkeeping: ReadonlySet<string>): Walk {
  const walk: Walk = {
    findings: [],
    relations: [],
    cteNames: new Set(),
    cascadeExplained: false,
    sawCascade: false,
    bookkeeping,
    effects: {},
    writes: [],
  };
  visit(stmt, walk);
  return walk;
}

function verdictOf(sql: string, walk: Walk): ClassifiedStatement {
  if (walk.sawCascade && !walk.cascadeExplained) {
    walk.findings.push({
      risk: 'destructive',
      reason: 'uses CASCADE, which also removes whatever depends on the objects it changes',
    });
  }
  if (walk.findings.length > 0) {
    const risk = SEVERITY_ORDER.find((severity) =>
      walk.findings.some((finding) => finding.risk === severity),
    ) as Severity;
    return withEffects({ sql, risk, reasons: [...new Set(walk.findings.map((finding) => finding.reason))] }, walk);
  }
  const tables = [...new Set(walk.relations.filter((name) => !isCteReference(name, walk)))];
  if (tables.length > 0 && tables.every((table) => walk.bookkeeping.has(table))) {
    return withEffects(
      {
        sql,
        risk: 'bookkeeping',
        reasons: [`only touches the migration bookkeeping ${plural(tables.length, 'table')} ${tables.join(', ')}`],
      },
      walk,
    );
  }
  return withEffects({ sql, risk: 'safe', reasons: [] }, walk);
}

function withEffects(verdict: ClassifiedStatement, walk: Walk): ClassifiedStatement {
  return Object.keys(walk.effects).length > 0 ? { ...verdict, effects: walk.effects } : verdict;
}

function isCteReference(name: string, walk: Walk): boolean {
  // Unqualified references were qualified as public.<name> on the way in.
  return name.startsWith('public.') && walk.cteNames.has(name.slice('public.'.length));
}

/** Parse-tree fields that define code for later rather than run it now (a column DEFAULT included). */
const DEFINITION_ONLY: Record<string, readonly string[]> = {
  CreateFunctionStmt: ['sql_body'],
  RuleStmt: ['actions', 'whereClause'],
  CreatePolicyStmt: ['qual', 'with_check'],
  AlterPolicyStmt: ['qual', 'with_check'],
  ColumnDef: ['raw_default', 'cooked_default'],
};

/** A DEFAULT constraint's expression is evaluated later, per inserted row, not by this statement. */
function skippedFields(key: string, child: object): readonly string[] | undefined {
  if (key === 'Constraint' && (child as { contype?: string }).contype === 'CONSTR_DEFAULT') return ['raw_expr'];
  return DEFINITION_ONLY[key];
}

/** Walks every node of the tree, letting the handlers below note what each statement node does. */
function visit(value: unknown, walk: Walk): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, walk);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  // A RangeVar is sometimes wrapped ({ RangeVar: {...} }) and sometimes a bare field (`relation`).
  if (typeof record.relname === 'string') walk.relations.push(qualifiedRelation(record));
  if (record.behavior === 'DROP_CASCADE') walk.sawCascade = true;
  // for...in, not Object.entries: the guard walks every statement of a down() before sending
  // it, and a tree's nodes are plain JSON objects (own, enumerable keys only).
  for (const key in record) {
    const child = record[key];
    if (child === null || typeof child !== 'object') continue;
    if (Object.hasOwn(HANDLERS, key)) HANDLERS[key](child, walk);
    const skipped = skippedFields(key, child);
    if (skipped) {
      const kept = Object.fromEntries(Object.entries(child).filter(([field]) => !skipped.includes(field)));
      visit(kept, walk);
    } else {
      visit(child, walk);
    }
  }
}
