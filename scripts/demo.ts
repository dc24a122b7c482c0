// `npm run demo`: the runbook's pipeline on this machine, with no cloud account.
// An embedded PostgreSQL on a free port holds the ticket-service fixture migrated to 007
// in its two batches; each step then runs a dist bundle the way the GitHub runner does.
import knexFactory from 'knex';
import { startEmbeddedPostgres } from '../test/support/embedded-postgres.js';
import { FileMigrationSource, listMigrationFiles } from '../src/migrations/source.js';
import { BATCH_ONE } from '../test/helpers/ticket-service-batches.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const migrationsDir = path.join(root, 'test/fixtures/ticket-service/migrations');

async function main(): Promise<void> {
  const started = Date.now();
  console.log('Starting an embedded PostgreSQL on a free port...');
  const server = await startEmbeddedPostgres();
  const stop = async () => server.stop();
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().finally(() => process.exit(143)));
  const knex = knexFactory({ client: 'pg', connection: server.adminUrl, pool: { min: 0, max: 2 } });
  try {
    const files = listMigrationFiles([migrationsDir]);
    await knex.migrate.latest({ migrationSource: new FileMigrationSource(files.filter((file) => BATCH_ONE.includes(file.name))) });
    await knex.migrate.latest({ migrationSource: new FileMigrationSource(files) });
    const rows = await knex('knex_migrations').select('name', 'batch').orderBy('id');
    console.log('Production before the rollback (ticket-service fixture):');
    for (const row of rows) console.log(`  batch ${row.batch}  ${row.name}`);
  } finally {
    await knex.destroy();
    await stop();
  }
  console.log(`Demo finished in ${((Date.now() - started) / 1000).toFixed(1)}s; nothing left running.`);
}

await main();
