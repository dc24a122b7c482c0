import knexFactory, { type Knex } from 'knex';
import { ConfigurationError, errorMessage } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { resolveConnection, type PostgresConnection } from '../postgres/connection.js';
import type { MigrationSettings } from './knexfile.js';
import { FileMigrationSource, listMigrationFiles, type MigrationFile } from './source.js';

// The plan job's scratch database must hold what production holds, so the dry run runs the real
// downs on the real schema. It is migrated here with the settings the rollback reads (the
// knexfile's directories, tableName, schemaName, loadExtensions, disableTransactions) and the same
// loader (TypeScript without ts-node, imports from the caller's tree), through Knex's Migrator.
// The connection is the scratch URL given: the knexfile's connection is never read.

export interface ScratchMigrationOptions {
  /** The scratch database (never production). */
  databaseUrl: string;
  settings: MigrationSettings;
  /** Production's applied migrations, in the order applied. */
  applied: readonly string[];
  /** Production's plan: the batch of each migration to undo, so the scratch plan is the same. */
  plan: ReadonlyArray<{ name: string; batch: number }>;
  logger: Logger;
}

export interface ScratchMigrationResult {
  /** The migrations applied on the scratch database, in order. */
  applied: string[];
  /** Applied in production but not on the scratch database, or the other way round. */
  missing: string[];
  extra: string[];
}

export async function migrateScratchDatabase(options: ScratchMigrationOptions): Promise<ScratchMigrationResult> {
  const { settings, logger } = options;
  const files = listMigrationFiles(settings.directories, {
    loadExtensions: settings.loadExtensions,
    sortDirsSeparately: settings.sortDirsSeparately,
  });
  const byName = new Map(files.map((file) => [file.name, file]));
  const noFile = options.applied.filter((name) => !byName.has(name));
  if (noFile.length > 0) {
    throw new ConfigurationError(
      `Production has applied ${noFile.join(', ')}, but ${settings.directories.join(', ')} has no such file: this checkout is not the code that applied them. Check out the commit deployed in production (ref).`,
    );
  }
  const connection = resolveConnection({ url: options.databaseUrl, input: 'database-url' });
  const knex = knexFactory({ client: 'pg', connection: connection.config(), pool: { min: 0, max: 1 } });
  try {
    // A source over exactly production's applied files, in production's order: one migrate.latest
    // applies them in that order (what per-migration `migrate:up` calls did, without a batch each).
    const source = new FileMigrationSource(options.applied.map((name) => byName.get(name)!));
    const config: Knex.MigratorConfig = {
      migrationSource: source,
      tableName: settings.tableName,
      schemaName: settings.schemaName,
      disableTransactions: settings.disableTransactions,
    };
    await logger.group(`Migrate the scratch database up to production's ${options.applied.length} migration(s)`, () =>
      migrateLatest(knex, config, options, { files, connection }),
    );
    const table = knex.withSchema(settings.schemaName);
    const batches = options.plan.filter((step) => typeof step.batch === 'number');
    if (batches.length > 0) {
      // Batches decide what `steps: N` undoes: the planned rows get their production batches and
      // every other row a lower one, so the scratch plan is the production plan.
      const lowest = Math.min(...batches.map((step) => step.batch));
      await table
        .clone()
        .from(settings.tableName)
        .update({ batch: Math.max(0, lowest - 1) });
      for (const step of batches)
        await table.clone().from(settings.tableName).where({ name: step.name }).update({ batch: step.batch });
    }
    const rows = (await table.clone().from(settings.tableName).select('name').orderBy('id')) as Array<{
      name: string;
    }>;
    const names = rows.map((row) => row.name);
    return {
      applied: names,
      missing: options.applied.filter((name) => !names.includes(name)),
      extra: names.filter((name) => !options.applied.includes(name)),
    };
  } finally {
    await knex.destroy().catch(() => undefined);
  }
}

async function migrateLatest(
  knex: Knex,
  config: Knex.MigratorConfig,
  options: ScratchMigrationOptions,
  { files, connection }: { files: MigrationFile[]; connection: PostgresConnection },
): Promise<void> {
  try {
    const [, names] = (await knex.migrate.latest(config)) as [number, string[]];
    options.logger.info(`Applied ${names.length} migration(s) on the scratch database.`);
  } catch (error) {
    throw new ConfigurationError(
      `Migrating the scratch database (${connection.target}) failed: ${errorMessage(error)}. Its up() must run on an empty database as it did in production (${files.length} file(s) in ${options.settings.directories.join(', ')}).`,
    );
  }
}
