import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../common/errors.js';
import { connectClient, resolveConnection, type ConnectionSecurity } from '../postgres/connection.js';
import type { CheckResult } from './types.js';

/** One line of `expected-tables`: a table that must exist, or (prefixed `!`) must not. */
export interface TableExpectation {
  schema: string;
  table: string;
  present: boolean;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/**
 * Parses `expected-tables`: `tickets` or `public.tickets` must exist; `!failed_login_attempts`
 * must not (a table the rolled-back migration created). Unqualified names are in `public`.
 */
export function parseExpectedTables(lines: readonly string[], input = 'expected-tables'): TableExpectation[] {
  return lines.map((line) => {
    const present = !line.startsWith('!');
    const name = (present ? line : line.slice(1)).trim();
    const parts = name.split('.');
    if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
      throw new ConfigurationError(
        `Input "${input}" has "${line}": write one table a line, as name or schema.name, prefixed with ! when it must NOT exist (such as !failed_login_attempts).`,
      );
    }
    const [schema, table] = parts.length === 2 ? parts : ['public', parts[0]];
    return { schema, table, present };
  });
}

/**
 * The runbook's "Inconsistent State" check as a yes or no: the tables (and views) that
 * exist in the schemas named, compared with the ones that must and must not exist.
 * Read from pg_catalog rather than information_schema, which hides tables the role
 * has no privilege on.
 */
export async function checkTables(
  databaseUrl: string,
  expectations: readonly TableExpectation[],
  security: ConnectionSecurity = {},
): Promise<CheckResult> {
  const started = performance.now();
  let client: pg.Client | undefined;
  try {
    const connection = resolveConnection({ ...security, url: databaseUrl });
    client = await connectClient(connection, { connectTimeoutMs: 10_000 });
    const schemas = [...new Set(expectations.map((expectation) => expectation.schema))];
    const { rows } = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname = ANY($1)`,
      [schemas],
    );
    const existing = new Set(rows.map((row) => `${row.schema}.${row.name}`));
    const label = (expectation: TableExpectation) =>
      expectation.schema === 'public' ? expectation.table : `${expectation.schema}.${expectation.table}`;
    const missingTables = expectations.filter((e) => e.present && !existing.has(`${e.schema}.${e.table}`)).map(label);
    const unexpectedTables = expectations
      .filter((e) => !e.present && existing.has(`${e.schema}.${e.table}`))
      .map(label);
    const passed = missingTables.length === 0 && unexpectedTables.length === 0;
    const problems = [
      missingTables.length ? `missing: ${missingTables.join(', ')}` : '',
      unexpectedTables.length ? `still present: ${unexpectedTables.join(', ')}` : '',
    ].filter(Boolean);
    return {
      check: 'database tables',
      kind: 'database',
      passed,
      attempts: 1,
      latencyMs: Math.round(performance.now() - started),
      missingTables,
      unexpectedTables,
      ...(passed ? {} : { error: `schema differs from what the migrations expect: ${problems.join('; ')}` }),
    };
  } catch (error) {
    return {
      check: 'database tables',
      kind: 'database',
      passed: false,
      attempts: 1,
      latencyMs: Math.round(performance.now() - started),
      error: `could not read the schema: ${errorMessage(error)}`,
    };
  } finally {
    await client?.end().catch(() => undefined);
  }
}
