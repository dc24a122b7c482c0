import type { ReviewedStatement } from './run-types.js';

/** What pg reports as changed rows, for the statements whose row count means rows changed. */
const DATA_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY']);

/** pg's rowCount of each result, on the statements that were sent (in order) for one query string. */
export function recordRowCounts(statements: ReviewedStatement[], result: unknown): void {
  const results = (Array.isArray(result) ? result : [result]) as Array<{ command?: string; rowCount?: number | null }>;
  const sent = statements.filter((statement) => !statement.outcome);
  sent.forEach((statement, index) => {
    const reply = results[index];
    if (reply && DATA_COMMANDS.has(reply.command ?? '') && typeof reply.rowCount === 'number')
      statement.rowCount = reply.rowCount;
  });
}
