import fs from 'node:fs';
import path from 'node:path';
import type { RollbackOptions } from '../../src/migrations/rollback.js';
import { classifyEach } from '../../src/sql/classify.js';
import type { TestDatabase } from '../helpers/database.js';
import { repoRoot } from '../helpers/run-bundle.js';
import { rollbackOptions } from '../rollback/helpers.js';

export const preserveDir = path.join(repoRoot, 'test/fixtures/preserve/migrations');
export const reshapeDir = path.join(repoRoot, 'test/fixtures/preserve/more');

/** A rollback of one batch with preservation on, as the action's defaults give it. */
export function preservingOptions(
  url: string,
  directory: string,
  overrides: Partial<RollbackOptions> = {},
): RollbackOptions {
  return rollbackOptions(url, {
    settings: {
      directories: [directory],
      tableName: 'knex_migrations',
      schemaName: 'public',
      sortDirsSeparately: false,
      disableTransactions: false,
    },
    mode: 'rollback',
    allowDestructive: true,
    classifyEach,
    preserve: { enabled: true, maxBytes: 256 * 1024 ** 2, schema: 'rollback_preserved' },
    ...overrides,
  });
}

/** A checksum of every row of a table, in key order: equal checksums, equal contents. */
export async function checksum(db: TestDatabase, table: string, order: string): Promise<string> {
  const [row] = await db.query<{ sum: string | null; n: string }>(
    `SELECT md5(string_agg(t::text, '|' ORDER BY ${order})) AS sum, count(*) AS n FROM ${table} t`,
  );
  return `${row.n}:${row.sum ?? ''}`;
}

/** The names README.md's grants for the plan job's read-only user are written with, and this test's. */
export interface ReaderNames {
  role: string;
  password: string;
  /** The user the migrations run as, who owns the tables (rollback_admin in the README). */
  owner: string;
  migrationsTable: string;
}

/** A ```sql block of a README section, by the section's heading. */
function readmeSqlBlock(heading: string): string {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const block = /```sql\n([^]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`README.md has no sql block under "${heading}"`);
  return block.replace(/^ {3}/gm, '');
}

/** The statements of a README sql block, its comments dropped, in this test's names. */
function statements(block: string, names: ReaderNames): string[] {
  return block
    .replace(/--.*$/gm, '')
    .split(';')
    .map((statement) => statement.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .map((statement) =>
      statement
        .replace(/\brollback_reader\b/g, names.role)
        .replace(/\brollback_admin\b/g, names.owner)
        .replace(/\b(?:schema|knex)_migrations(?=_lock\b|\b)/g, names.migrationsTable)
        .replace(/PASSWORD '[^']*'/, `PASSWORD '${names.password}'`),
    );
}

/**
 * The read-only user exactly as "Use it from your repository" (step 4) creates and grants it, so
 * the README cannot drift from what the tests run.
 */
export function readmeReaderSql(names: ReaderNames): string[] {
  return statements(readmeSqlBlock('## Use it from your repository'), names);
}

/** The same user's statements in "Connecting to RDS" (IAM: no password, rds_iam). */
export function readmeIamReaderSql(names: ReaderNames): string[] {
  return statements(readmeSqlBlock('### IAM database authentication'), names);
}
