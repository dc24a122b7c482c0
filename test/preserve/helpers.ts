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
