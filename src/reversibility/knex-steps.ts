import type { Knex } from 'knex';
import type { FileMigrationSource, MigrationFile, MigrationModule } from '../migrations/source.js';

// The check runs every up() and down() through Knex's own Migrator, as `knex migrate:latest`
// and the rollback action run them: Knex decides per step whether it gets a transaction
// (the migration's `config.transaction`, else `disableTransactions`), hands it the
// transaction or the plain instance, and records it in the migrations table.
//
// A call to knex.migrate.up() or .down() per step would list the migrations, look up its
// tables in information_schema twice and take and free its lock each time: six times the
// cost of the migrations themselves on a scratch database nobody else migrates. So the
// check hands the Migrator a whole run at once, as a migration source whose "migrations"
// are its steps (`002_x.ts`, `002_x.ts (down)`, `002_x.ts (up again)`): one latest() call
// runs them in order, one committed transaction each, where Knex would use one. Each step
// calls the real module's up() or down() with whatever Knex handed it.

/** One step: the real migration's up() or down(), run by Knex as a migration of its own. */
export interface Step {
  /** Unique within the run; what Knex records in the migrations table. */
  name: string;
  file: MigrationFile;
  /** Runs the step: `run(real)` calls `real.up(knex)` or `real.down(knex)` around what the check records. */
  run(knex: Knex, real: MigrationModule): Promise<void>;
}

// latest() runs the whole batch in ONE transaction when every migration in it uses one. A
// step that opts out, first in the batch, makes Knex give every later step a transaction of
// its own instead (Migrator#latest: transactionForAll), as `migrate:latest` gives each
// migration deployed on its own; the commit between steps matters (an enum value added by
// one migration cannot be used by the next inside the same transaction).
const COMMIT_POINT = 'verify-reversible: one transaction per step';

type StepEntry = Step | typeof COMMIT_POINT;

/** A Knex MigrationSource over the steps of one run. */
class StepSource implements Knex.MigrationSource<StepEntry> {
  constructor(
    private readonly steps: readonly Step[],
    private readonly files: FileMigrationSource,
    private readonly batch: number,
  ) {}

  getMigrations(): Promise<StepEntry[]> {
    return Promise.resolve([COMMIT_POINT, ...this.steps]);
  }

  getMigrationName(entry: StepEntry): string {
    return entry === COMMIT_POINT ? `${COMMIT_POINT} #${this.batch}` : entry.name;
  }

  async getMigration(entry: StepEntry): Promise<MigrationModule> {
    if (entry === COMMIT_POINT) return { config: { transaction: false }, up: noop, down: noop };
    const real = await this.files.getMigration(entry.file);
    return { config: real.config, up: (knex: Knex) => entry.run(knex, real), down: noop };
  }
}

const noop = (): Promise<void> => Promise.resolve();

/** Where Knex keeps its bookkeeping and how it decides transactions (the knexfile's `migrations`). */
export interface StepSettings {
  tableName: string;
  /** Knex's migrations.schemaName: the schema of the migrations table, not the one compared. */
  schemaName: string;
  /** Knex's migrations.disableTransactions: migrations without config.transaction run outside a transaction. */
  disableTransactions: boolean;
}

/**
 * Runs the steps in order through Knex's Migrator. Rejects with the error of the first step
 * that throws; the steps before it stay applied (each committed on its own).
 */
export async function runSteps(
  knex: Knex,
  steps: readonly Step[],
  files: FileMigrationSource,
  settings: StepSettings,
  batch: number,
): Promise<void> {
  if (steps.length === 0) return;
  await knex.migrate.latest({
    migrationSource: new StepSource(steps, files, batch),
    tableName: settings.tableName,
    schemaName: settings.schemaName,
    disableTransactions: settings.disableTransactions,
    // The steps are ours and complete; a step's name is not a file to look for.
    disableMigrationsListValidation: true,
  });
}
