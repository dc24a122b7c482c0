import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { ConfigurationError, errorMessage } from '../common/errors.js';
import { postgresConfig } from '../postgres/connection.js';
import { FileMigrationSource, type MigrationFile, type MigrationModule } from '../migrations/source.js';
import { bookkeepingTables, captureSchema, type CaptureOptions } from './schema-capture.js';
import { describeDifference, diffSchemas, isEmptyDifference } from './schema-diff.js';
import {
  assertCanCreateDatabases,
  createScratchDatabase,
  dropScratchDatabase,
  type ScratchDatabase,
  type ScratchSecurity,
} from './scratch-database.js';
import { silentLogger, type Logger } from '../common/logger.js';

// The up/down/up loop. Every up() and down() runs as Knex's Migrator runs it in
// production (Migrator#_waterfallBatch): in its own committed transaction, handed the
// transaction as its `knex`, or handed the plain instance when the migration says
// `config.transaction = false`; and recorded in the migrations table (inserted inside the
// up()'s transaction, deleted after the down()'s commit). The commit between steps
// matters: an enum value added by one migration cannot be used by a later one inside the
// same transaction.
//
// What this does not repeat on every step is the Migrator's bookkeeping around a batch:
// the two information_schema lookups for its tables, listing and validating every
// migration, and taking and freeing the lock in transactions of their own. On a scratch
// database nobody else migrates, and that overhead cost three times the migrations
// themselves (600 steps for 200 migrations). Knex's Migrator still creates its tables
// (migrate.list), so what a migration sees is what it sees in production.

export interface CheckOptions {
  /** A PostgreSQL server the check may create databases on; the database it names is never written. */
  serverUrl: string;
  /** TLS for that server (`ssl-ca`); never IAM. */
  security?: ScratchSecurity;
  /** Every migration, in Knex's order. */
  files: readonly MigrationFile[];
  /** Check just these (file names, with or without extension); those before them are applied unchecked. */
  only?: readonly string[];
  /** Knex's migrations table (`knex_migrations`). */
  migrationsTable?: string;
  /** The schema the migrations write to (`public`). */
  schema?: string;
  logger?: Logger;
}

export type Outcome = 'exact' | 'difference' | 'error';

/** The verdict on one migration. */
export interface MigrationCheck {
  name: string;
  outcome: Outcome;
  /** Why it is not reversible; undefined when exact. */
  reason?: string;
  /** Objects or properties down() left behind (`index tickets_state_idx`). */
  left: string[];
  /** Objects or properties down() lost (`column tickets.priority: NOT NULL`). */
  lost: string[];
  /** The step that threw and its error (Knex puts the statement first: `DROP TABLE x - table "x" does not exist`). */
  failure?: { step: 'up' | 'down' | 'up after down'; error: string };
  durationMs: number;
}

export interface CheckResult {
  /** Every checked migration, in order. */
  checks: MigrationCheck[];
  /** Applied first, unchecked, because `only` named a later migration. */
  appliedUnchecked: string[];
  /** Never reached: an up() failed, so nothing after it could be applied. */
  notReached: string[];
  /** How often the state after a migration's up() had to be rebuilt after a failed check. */
  rebuilds: number;
  durationMs: number;
}

/** Resolves `only` against the migration files; an unknown name is the caller's mistake. */
export function resolveOnly(files: readonly MigrationFile[], only: readonly string[] | undefined): Set<string> {
  if (!only || only.length === 0) return new Set(files.map((file) => file.name));
  const selected = new Set<string>();
  for (const wanted of only) {
    const match = files.find((file) => file.name === wanted || file.name.replace(/\.[^.]+$/, '') === wanted);
    if (!match) {
      const names = files.map((file) => file.name);
      const shown = names.length > 20 ? [...names.slice(0, 20), `... ${names.length - 20} more`] : names;
      throw new ConfigurationError(
        `Input "only" names "${wanted}", which is not a migration in the migrations directory. Valid values are: [${shown.join(', ')}].`,
      );
    }
    selected.add(match.name);
  }
  return selected;
}

/** A Knex instance and a catalog connection on one scratch database. */
class Session {
  private constructor(
    readonly database: ScratchDatabase,
    private readonly knex: Knex,
    private readonly catalog: pg.Client,
    private readonly source: FileMigrationSource,
    private readonly tableName: string,
    private readonly capture: CaptureOptions,
  ) {}

  static async open(
    database: ScratchDatabase,
    source: FileMigrationSource,
    tableName: string,
    capture: CaptureOptions,
    logger: Logger,
  ): Promise<Session> {
    const connection = () => postgresConfig({ url: database.url, sslCa: database.security?.sslCa });
    const knex = knexFactory({
      client: 'pg',
      connection: connection(),
      pool: { min: 0, max: 4 },
      // Knex warns about failed migrations itself; our report says it better.
      log: { warn: logger.debug, error: logger.debug, deprecate: logger.debug, debug: logger.debug },
    });
    const catalog = new pg.Client(connection());
    // Cancel drops the database WITH (FORCE), which ends this session: not a crash.
    catalog.on('error', (error) => logger.debug(`catalog connection: ${error.message}`));
    await catalog.connect();
    const session = new Session(database, knex, catalog, source, tableName, capture);
    await session.createMigrationsTables();
    return session;
  }

  captureSchema() {
    return captureSchema(this.catalog, this.capture);
  }

  /** Lets Knex's Migrator create the migrations table and its lock table, as `knex migrate:latest` would. */
  async createMigrationsTables(): Promise<void> {
    await this.knex.migrate.list({ migrationSource: this.source, tableName: this.tableName });
  }

  async up(file: MigrationFile): Promise<void> {
    const migration = await this.source.getMigration(file);
    const record = (knex: Knex) =>
      knex.into(this.tableName).insert({ name: file.name, batch: this.nextBatch++, migration_time: new Date() });
    if (usesTransaction(migration)) {
      await this.knex.transaction(async (trx) => {
        await migration.up(trx);
        await record(trx);
      });
    } else {
      await migration.up(this.knex);
      await record(this.knex);
    }
  }

  async down(file: MigrationFile): Promise<void> {
    const migration = await this.source.getMigration(file);
    const down = migration.down!;
    if (usesTransaction(migration)) await this.knex.transaction(async (trx) => void (await down(trx)));
    else await down(this.knex);
    await this.knex.from(this.tableName).where({ name: file.name }).del();
  }

  /** Knex's batch numbers: one per migrate call, as the check makes one call per step. */
  private nextBatch = 1;

  async close(): Promise<void> {
    await Promise.allSettled([this.knex.destroy(), this.catalog.end()]);
  }
}

/**
 * Checks every selected migration in file order on a scratch database of its own:
 * capture, up(), down(), capture and compare, up() again. Whatever goes wrong in one
 * check, the next starts from the state that migration's up() alone leaves (rebuilt by
 * replaying the ups on a fresh database), so one broken down() cannot hide the next.
 */
export async function checkReversibility(options: CheckOptions): Promise<CheckResult> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger;
  const tableName = options.migrationsTable ?? 'knex_migrations';
  const capture: CaptureOptions = { schema: options.schema ?? 'public', exclude: bookkeepingTables(tableName) };
  const selected = resolveOnly(options.files, options.only);
  const lastIndex = Math.max(...options.files.map((file, index) => (selected.has(file.name) ? index : -1)));
  const files = options.files.slice(0, lastIndex + 1);
  const source = new FileMigrationSource(files);

  // Load everything before the first write: a migration that cannot load is a
  // ConfigurationError, and a missing down() is a finding Knex itself would refuse.
  for (const file of files) await source.getMigration(file);
  await assertCanCreateDatabases(options.serverUrl, options.security);

  const result: CheckResult = { checks: [], appliedUnchecked: [], notReached: [], rebuilds: 0, durationMs: 0 };
  // Every database this check creates, so the finally drops them all even when a rebuild fails half-way.
  const created = new Set<string>();
  const createDatabase = async () => {
    const database = await createScratchDatabase(options.serverUrl, { security: options.security });
    created.add(database.name);
    return database;
  };
  let session: Session | undefined;
  try {
    session = await Session.open(await createDatabase(), source, tableName, capture, logger);
    logger.info(
      `Scratch database ${session.database.name} created; checking ${selected.size} of ${options.files.length} migration(s).`,
    );
    for (let index = 0; index < files.length; index++) {
      const { name } = files[index];
      if (!selected.has(name)) {
        await applyUnchecked(session, files[index]);
        result.appliedUnchecked.push(name);
        logger.info(`  ${name}: applied (not checked)`);
        continue;
      }
      const check = await checkOne(session, files[index], source);
      result.checks.push(check);
      logger.info(`  ${name}: ${summarize(check)} (${check.durationMs} ms)`);
      if (check.failure?.step === 'up') {
        result.notReached = files
          .slice(index + 1)
          .map((file) => file.name)
          .filter((later) => selected.has(later));
        break;
      }
      if (check.outcome !== 'exact' && index < files.length - 1) {
        const old = session;
        session = await Session.open(await createDatabase(), source, tableName, capture, logger);
        await old.close();
        await dropScratchDatabase(options.serverUrl, old.database.name, options.security);
        created.delete(old.database.name);
        logger.info(
          `  scratch database ${old.database.name} dropped: its state after a failed check cannot be trusted`,
        );
        await replayUps(session, files.slice(0, index + 1), logger);
        result.rebuilds++;
      }
    }
  } finally {
    await session?.close();
    for (const name of created) {
      await dropScratchDatabase(options.serverUrl, name, options.security);
      logger.info(`Scratch database ${name} dropped.`);
    }
  }
  result.durationMs = Date.now() - started;
  return result;
}

async function applyUnchecked(session: Session, file: MigrationFile): Promise<void> {
  try {
    await session.up(file);
  } catch (error) {
    throw new Error(
      `Migration ${file.name} (applied before the checked ones, as "only" asks) failed in up(): ${errorMessage(error)}`,
      { cause: error },
    );
  }
}

async function checkOne(session: Session, file: MigrationFile, source: FileMigrationSource): Promise<MigrationCheck> {
  const { name } = file;
  const started = Date.now();
  const done = (check: Omit<MigrationCheck, 'durationMs'>): MigrationCheck => ({
    ...check,
    durationMs: Date.now() - started,
  });
  const module = await source.getMigration(file);
  if (typeof module.down !== 'function') {
    return done({
      name,
      outcome: 'error',
      reason: 'exports no down() function: it cannot be rolled back',
      left: [],
      lost: [],
      failure: { step: 'up', error: 'no down() function' },
    });
  }

  const before = await session.captureSchema();
  try {
    await session.up(file);
  } catch (error) {
    const message = errorMessage(error);
    return done({
      name,
      outcome: 'error',
      reason: `up() failed, so it and every later migration could not be checked: ${message}`,
      left: [],
      lost: [],
      failure: { step: 'up', error: message },
    });
  }
  try {
    await session.down(file);
  } catch (error) {
    const message = errorMessage(error);
    return done({
      name,
      outcome: 'error',
      reason: `down() failed: ${message}`,
      left: [],
      lost: [],
      failure: { step: 'down', error: message },
    });
  }
  const difference = diffSchemas(before, await session.captureSchema());
  let upAgainError: string | undefined;
  try {
    await session.up(file);
  } catch (error) {
    upAgainError = errorMessage(error);
  }
  const reasons: string[] = [];
  if (!isEmptyDifference(difference))
    reasons.push(`down() did not restore the schema: ${describeDifference(difference).join('; ')}`);
  if (upAgainError) reasons.push(`up() after down() failed: ${upAgainError}`);
  return done({
    name,
    outcome: upAgainError ? 'error' : reasons.length ? 'difference' : 'exact',
    reason: reasons.length ? reasons.join('. ') : undefined,
    left: difference.left,
    lost: difference.lost,
    failure: upAgainError ? { step: 'up after down', error: upAgainError } : undefined,
  });
}

/** Brings a fresh database to the state after `applied`: their ups, one committed migration at a time. */
async function replayUps(session: Session, applied: readonly MigrationFile[], logger: Logger): Promise<void> {
  logger.info(
    `  rebuilding the state after ${applied[applied.length - 1].name} on ${session.database.name} (replaying ${applied.length} up())`,
  );
  for (const file of applied) await session.up(file);
}

/** Migrator#_useTransaction: the migration's own `config.transaction` wins; the default is a transaction. */
function usesTransaction(migration: MigrationModule): boolean {
  return typeof migration.config?.transaction === 'boolean' ? migration.config.transaction : true;
}

function summarize(check: MigrationCheck): string {
  if (check.outcome === 'exact') return 'exact';
  return `${check.outcome === 'error' ? 'ERROR' : 'DIFFERENCE'}: ${check.reason}`;
}
