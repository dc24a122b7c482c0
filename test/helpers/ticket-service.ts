import path from 'node:path';
import type { Knex } from 'knex';
import { FileMigrationSource, listMigrationFiles } from '../../src/migrations/source.js';
import { repoRoot } from './run-bundle.js';
import { BATCH_ONE } from './ticket-service-batches.js';

export { BATCH_ONE, BATCH_TWO } from './ticket-service-batches.js';

export const ticketServiceDir = path.join(repoRoot, 'test/fixtures/ticket-service');
export const ticketServiceMigrations = path.join(ticketServiceDir, 'migrations');

/**
 * Brings a database to the ticket service's production state: 001-005 in batch 1,
 * then 006 and 007 (the bad deploy) in batch 2, through Knex's own Migrator.
 */
export async function migrateTicketService(
  knex: Knex,
  options: { upTo?: 'batch-one' | 'batch-two' } = {},
): Promise<void> {
  const files = listMigrationFiles([ticketServiceMigrations]);
  const first = new FileMigrationSource(files.filter((file) => BATCH_ONE.includes(file.name)));
  await knex.migrate.latest({ migrationSource: first });
  if (options.upTo === 'batch-one') return;
  await knex.migrate.latest({ migrationSource: new FileMigrationSource(files) });
}
