import { errorMessage } from '../common/errors.js';
import { isFlagged, needsAllowDestructive, worstOf } from '../sql/risk.js';
import type { CapturedStatement } from './sql-capture.js';
import type { ReviewedStatement, RollbackOptions } from './run-types.js';

/** Classifies what a run executed, each verdict attached to its statement (and so to its migration). */
export async function review(
  statements: CapturedStatement[],
  options: RollbackOptions,
  bookkeepingTables: string[],
): Promise<ReviewedStatement[]> {
  const batched = options.classifyEach
    ? await options.classifyEach(
        statements.map((statement) => statement.sql),
        { bookkeepingTables },
      )
    : undefined;
  const reviewed: ReviewedStatement[] = [];
  for (const [index, statement] of statements.entries()) {
    const verdicts = batched ? batched[index] : await options.classify([statement.sql], { bookkeepingTables });
    const worst = worstOf(verdicts);
    reviewed.push({
      ...statement,
      risk: worst?.risk ?? 'destructive',
      reasons: verdicts
        .flatMap((verdict) => (isFlagged(verdict.risk) ? verdict.reasons : []))
        .concat(worst ? [] : ['the classifier returned nothing for it']),
    });
  }
  return reviewed;
}

/** After a failure the statements are still classified for the report; a classifier fault must not hide the real error. */
export async function reviewAfterFailure(
  statements: CapturedStatement[],
  options: RollbackOptions,
  bookkeepingTables: string[],
): Promise<ReviewedStatement[]> {
  try {
    return await review(statements, options, bookkeepingTables);
  } catch (error) {
    options.logger.debug(`classifying the statements of a failed run failed: ${errorMessage(error)}`);
    return statements.map((statement) => ({
      ...statement,
      risk: 'destructive',
      reasons: ['not classified (the classifier failed)'],
    }));
  }
}

/** The statements a run refuses to commit without allow-destructive. */
export function blockedOf(statements: readonly ReviewedStatement[]): ReviewedStatement[] {
  return statements.filter((statement) => needsAllowDestructive(statement.risk));
}

export function describeBlocked(statement: ReviewedStatement): string {
  return `${statement.migration ?? '(bookkeeping)'}: "${oneLine(statement.sql)}" (${statement.risk}: ${statement.reasons.join('; ') || 'no reason given'})`;
}

/** One warning per statement classified `warning`. */
export function warningsOf(statements: readonly ReviewedStatement[]): string[] {
  return statements
    .filter((statement) => statement.risk === 'warning')
    .map(
      (statement) =>
        `${statement.migration ?? '(bookkeeping)'}: "${oneLine(statement.sql)}": ${statement.reasons.join('; ')}`,
    );
}

export function oneLine(sql: string, max = 200): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
