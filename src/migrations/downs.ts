import type { Knex } from 'knex';
import { formatDuration } from '../common/duration.js';
import type { Logger } from '../common/logger.js';
import { escapeControl } from './review.js';
import { batchesOf, type PlannedMigration } from './plan.js';
import { clockOf, type RollbackOptions } from './run-types.js';
import { MigrationTracker } from './sql-capture.js';
import { TrackingMigrationSource } from './source.js';

/** A tracker that logs a line per down() as it returns. */
export function progressTracker(logger: Logger): MigrationTracker {
  return new MigrationTracker((name, elapsed) =>
    logger.info(`  ${escapeControl(name)}: down() ran in ${formatDuration(elapsed)}`),
  );
}

export function migratorConfig(options: RollbackOptions, source: TrackingMigrationSource): Knex.MigratorConfig {
  return {
    migrationSource: source,
    tableName: options.settings.tableName,
    schemaName: options.settings.schemaName,
    disableTransactions: options.settings.disableTransactions,
    // We checked the files of the plan ourselves; a missing file for a migration that stays
    // applied must not stop a rollback of others (status reports it).
    disableMigrationsListValidation: true,
  };
}

/**
 * Drives Knex's own Migrator on the transaction: rollback() once per batch for steps/all
 * (its _getLastBatch picks the newest batch, ordered by id, as our plan does),
 * down({ name }) once per migration for to/down.
 */
export async function runDowns(
  trx: Knex | Knex.Transaction,
  given: Knex.MigratorConfig,
  options: RollbackOptions,
  plan: PlannedMigration[],
  perMigration = false,
): Promise<void> {
  const { logger } = options;
  // On our transaction, Knex's Migrator would still wrap each down() in a transaction of its
  // own, which inside ours is a SAVEPOINT and a RELEASE: two more round trips per migration
  // that protect nothing, since any failure rolls the whole transaction back. With
  // disableTransactions each down() runs directly on our transaction; a migration that sets
  // config.transaction itself is still honoured by Knex (true: a savepoint; false never
  // reaches a transaction, see buildSegments).
  const config = 'isTransaction' in trx && trx.isTransaction ? { ...given, disableTransactions: true } : given;
  const byBatch = (options.request.kind === 'steps' || options.request.kind === 'all') && !perMigration;
  if (!byBatch) {
    for (const migration of plan) {
      logger.info(`${escapeControl(migration.name)} (batch ${migration.batch})`);
      await trx.migrate.down({ ...config, name: migration.name });
    }
    return;
  }
  for (const batch of batchesOf(plan)) {
    const names = plan.filter((migration) => migration.batch === batch).map((migration) => migration.name);
    logger.info(`batch ${batch}: ${escapeControl(names.join(', '))}`);
    const started = clockOf(options).now();
    const [, undone] = (await trx.migrate.rollback(config)) as [number, string[]];
    if (JSON.stringify(undone) !== JSON.stringify(names)) {
      throw new Error(
        `Knex undid ${JSON.stringify(undone)} for batch ${batch}, but the plan was ${JSON.stringify(names)}.`,
      );
    }
    logger.info(`  undone in ${formatDuration(clockOf(options).now() - started)}`);
  }
}
