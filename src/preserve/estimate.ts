// What preserve-data would keep, sized on production before anyone approves. The pipeline's
// dry run runs on a scratch database with production's schema but none of its data, so its
// own estimate is near zero. Its destroying statements (the preserve-statements-file output)
// are sized here instead, on production, in a READ ONLY transaction: the catalog, EXPLAIN and
// pg_table_size only, the same estimator the real run checks preserve-data-max with.
import fs from 'node:fs';
import { ConfigurationError, errorMessage } from '../common/errors.js';
import { isLockTimeout, type Session } from '../migrations/lock.js';
import { Preserver } from './preserver.js';
import { formatSize } from './size.js';
import type { CopyReport, DestroyingStatement, PreservationReport, PreserveOptions } from './types.js';

/** The file a dry run writes (version 1), as the preserve-statements-file output. */
export interface DestroyingStatementsFile {
  version: 1;
  statements: DestroyingStatement[];
}

export function destroyingStatementsJson(statements: readonly DestroyingStatement[]): string {
  return JSON.stringify({ version: 1, statements: [...statements] } satisfies DestroyingStatementsFile);
}

/** Reads and checks a dry run's file; every mistake names the input and what it must be. */
export function readDestroyingStatements(file: string, input: string): DestroyingStatement[] {
  const expected = `it must be the preserve-statements-file output of a dry run (mode plan, dry-run: true) of the same plan`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(error);
    throw new ConfigurationError(`Input "${input}" is "${file}": ${why}; ${expected}.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`Input "${input}": ${file} is not JSON (${errorMessage(error)}); ${expected}.`);
  }
  const statements = (parsed as Partial<DestroyingStatementsFile> | null)?.statements;
  const valid =
    (parsed as Partial<DestroyingStatementsFile> | null)?.version === 1 &&
    Array.isArray(statements) &&
    statements.every(
      (statement) =>
        typeof statement?.migration === 'string' &&
        typeof statement.sql === 'string' &&
        typeof statement.inTransaction === 'boolean',
    );
  if (!valid)
    throw new ConfigurationError(
      `Input "${input}": ${file} is not a list of destroying statements (version 1, each with migration, sql and inTransaction); ${expected}.`,
    );
  return statements;
}

/** The estimate, and the refusal a real run would meet when it is over preserve-data-max. */
export interface Estimate {
  kept: PreservationReport;
  overLimit?: string;
}

/**
 * Sizes what keeping `statements` would take on this database, changing nothing: a READ ONLY
 * transaction, always rolled back. A table or column the statement names that does not exist
 * here (a later down() drops what an earlier one creates) has nothing to keep, as in the run.
 */
export async function estimateData(
  session: Session,
  statements: readonly DestroyingStatement[],
  options: PreserveOptions,
  refused = 'A real run would be refused',
): Promise<Estimate> {
  const preserver = new Preserver(options);
  await session.query('BEGIN TRANSACTION READ ONLY');
  try {
    for (const group of byMigration(statements))
      await preserver.beforeDestroy(group.statements, group.migration, session, {
        dryRun: true,
        inTransaction: group.inTransaction,
      });
  } catch (error) {
    if (isPermissionDenied(error))
      throw new ConfigurationError(
        `Estimating what preserve-data keeps needs SELECT on every table the rollback would copy (${errorMessage(error)}). Nothing was changed. Give this step's user the read-only grants the README lists under "Use it from your repository" (SELECT on the schema's tables, and default privileges for tables created later), or set preserve-data: false.`,
      );
    if (!isLockTimeout(error)) throw error;
    throw new ConfigurationError(
      `Estimating what preserve-data keeps waited longer than lock-timeout for a table (${errorMessage(error)}): a session holds an exclusive lock on it. Nothing was changed. Run the plan again, or raise lock-timeout for this step.`,
    );
  } finally {
    await session.query('ROLLBACK').catch(() => undefined);
  }
  const { statements: _seen, ...report } = preserver.report(false);
  const kept: PreservationReport = { ...report, estimatedFor: statements.length };
  return { kept, overLimit: overLimit(kept, refused) };
}

/** PostgreSQL's insufficient_privilege: the plan job's read-only user lacks a grant. */
function isPermissionDenied(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '42501';
}

/** Consecutive statements of one migration, as the guard handed them to the copy. */
function byMigration(statements: readonly DestroyingStatement[]) {
  const groups: { migration: string; inTransaction: boolean; statements: { sql: string }[] }[] = [];
  for (const statement of statements) {
    const last = groups.at(-1);
    if (last && last.migration === statement.migration && last.inTransaction === statement.inTransaction)
      last.statements.push({ sql: statement.sql });
    else
      groups.push({
        migration: statement.migration,
        inTransaction: statement.inTransaction,
        statements: [{ sql: statement.sql }],
      });
  }
  return groups;
}

const LARGEST_SHOWN = 5;

function overLimit(kept: PreservationReport, refused: string): string | undefined {
  if (kept.estimatedBytes <= kept.maxBytes) return undefined;
  const largest = [...kept.copies]
    .sort((a: CopyReport, b: CopyReport) => b.bytes - a.bytes)
    .slice(0, LARGEST_SHOWN)
    .map((copy) => `${copy.kind} ${copy.source} (about ${copy.rows} row(s), ${formatSize(copy.bytes)})`);
  return `${refused}: keeping what this rollback destroys needs an estimated ${formatSize(kept.estimatedBytes)} on this database (from the planner and pg_table_size), over preserve-data-max (${formatSize(kept.maxBytes)}). The largest parts: ${largest.join(', ')}. Nothing was changed. Two ways forward: raise preserve-data-max to at least ${formatSize(kept.estimatedBytes)} (the copies live in the database, in schema ${kept.schema}), or set preserve-data: false and rely on the pre-rollback snapshot alone.`;
}
