import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import pg from 'pg';
import { FileMigrationSource, listMigrationFiles } from '../../src/migrations/source.js';
import type { Logger } from '../../src/common/logger.js';
import { runRollback, type RollbackOptions, type RollbackResult } from '../../src/migrations/rollback.js';
import { classifyStatements } from '../../src/sql/classify.js';
import { repoRoot } from '../helpers/run-bundle.js';
import { ticketServiceMigrations } from '../helpers/ticket-service.js';

export const faultsDir = path.join(repoRoot, 'test/fixtures/rollback-faults/migrations');
export const faultsProject = path.join(repoRoot, 'test/fixtures/rollback-faults');

/** Applies the fault fixture's migrations in the batches given, through Knex's own Migrator. */
export async function applyBatches(knex: Knex, batches: string[][], directory = faultsDir): Promise<void> {
  const files = listMigrationFiles([directory]);
  const applied: string[] = [];
  for (const batch of batches) {
    applied.push(...batch);
    await knex.migrate.latest({
      migrationSource: new FileMigrationSource(files.filter((file) => applied.includes(file.name))),
    });
  }
}

export interface RecordingLogger extends Logger {
  lines: string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(message),
    warning: (message) => lines.push(`warning: ${message}`),
    debug: (message) => lines.push(`debug: ${message}`),
    error: (message) => lines.push(`error: ${message}`),
    group: (_name, body) => body(),
  };
}

/**
 * Resolves once the run has logged `count` attempts that timed out on a lock. A test that releases
 * its blocker then knows the rollback really waited, however slowly a busy machine started the run;
 * after a minute it resolves anyway, so a run that failed early fails its own assertions.
 */
export async function afterLockTimeouts(logger: RecordingLogger, count: number): Promise<void> {
  const timedOut = () =>
    logger.lines.filter((line) => /^Attempt \d+ \(lock_timeout [^)]*\): waited in vain/.test(line)).length;
  const giveUpAt = Date.now() + 60_000;
  while (timedOut() < count && Date.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** The options a run gets from default inputs, on one database and directory. */
export function rollbackOptions(url: string, overrides: Partial<RollbackOptions> = {}): RollbackOptions {
  return {
    databaseUrl: url,
    settings: {
      directories: [ticketServiceMigrations],
      tableName: 'knex_migrations',
      schemaName: 'public',
      sortDirsSeparately: false,
      disableTransactions: false,
    },
    mode: 'plan',
    request: { kind: 'steps', steps: 1 },
    dryRun: false,
    allowDestructive: false,
    allowNonAtomic: false,
    lockTimeoutMs: 5000,
    lockWaitBudgetMs: 5000,
    sessionIdleTimeoutMs: 60_000,
    showBlockerQueries: true,
    statementTimeoutMs: 60_000,
    forceUnlock: false,
    applicationName: 'rollback-test',
    classify: classifyStatements,
    logger: recordingLogger(),
    ...overrides,
  };
}

export function inFaults(overrides: Partial<RollbackOptions> = {}): Partial<RollbackOptions> {
  return {
    settings: {
      directories: [faultsDir],
      tableName: 'knex_migrations',
      schemaName: 'public',
      sortDirsSeparately: false,
      disableTransactions: false,
    },
    ...overrides,
  };
}

/** The error a run threw, for assertions on its message and the result it carries. */
export async function failureOf(run: Promise<RollbackResult>): Promise<Error & { result?: RollbackResult }> {
  try {
    await run;
  } catch (error) {
    return error as Error & { result?: RollbackResult };
  }
  throw new Error('expected the run to fail, and it succeeded');
}

export { runRollback };

/** A copy of a fixture project in a temp directory, outside this repository. */
export function copyProject(source: string): string {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'rollback-project-'));
  fs.cpSync(source, target, { recursive: true });
  return target;
}

/** Names and batches of knex_migrations, in id order. */
export async function migrationRows(
  query: (sql: string) => Promise<Array<Record<string, unknown>>>,
): Promise<Array<{ name: string; batch: number }>> {
  return (await query('SELECT name, batch FROM knex_migrations ORDER BY id')).map((row) => ({
    name: String(row.name),
    batch: Number(row.batch),
  }));
}

/**
 * Another application's session inside an open transaction that ran `statements`: the last one
 * is the query pg_stat_activity shows for it. End it with `client.end()`.
 */
export async function openTransaction(
  url: string,
  applicationName: string,
  statements: string[],
): Promise<{ client: pg.Client; pid: number }> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  await client.connect();
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  await client.query('BEGIN');
  for (const sql of statements) await client.query(sql);
  return { client, pid };
}
