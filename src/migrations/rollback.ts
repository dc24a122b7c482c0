import knexFactory, { type Knex } from 'knex';
import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../common/errors.js';
import { formatDuration } from '../common/duration.js';
import { redactConnectionString } from '../common/secrets.js';
import type { MigrationSettings } from './knexfile.js';
import { coverCodeLoadedByDowns, fingerprintPlan } from './fingerprint.js';
import type { LocalCodeFile } from './local-code.js';
import {
  advisoryKey,
  describeHolder,
  findLockHolders,
  isLockTimeout,
  lockTableName,
  qualified,
  readKnexLockRow,
  releaseAdvisoryLock,
  tryAdvisoryLock,
  type LockHolder,
} from './lock.js';
import {
  batchesOf,
  buildSegments,
  describeRequest,
  selectMigrations,
  type AppliedMigration,
  type PlanRequest,
  type PlannedMigration,
  type Segment,
} from './plan.js';
import { DEFAULT_LOAD_EXTENSIONS, listMigrationFiles, TrackingMigrationSource, type MigrationFile } from './source.js';
import {
  MigrationTracker,
  serverMessage,
  SqlCapture,
  type CapturedStatement,
  type KnexClientLike,
} from './sql-capture.js';
import { readApplied, readStatus, type StatusSnapshot } from './status.js';

export type Mode = 'status' | 'plan' | 'rollback' | 'down' | 'unlock';

// The classifier's interface (src/sql/classify.ts). Passed in so this module stays testable
// on its own and the action decides which classifier runs.
export type StatementRisk = 'bookkeeping' | 'destructive' | 'security' | 'warning' | 'safe';
export interface ClassifiedStatement {
  sql: string;
  risk: StatementRisk;
  reasons: string[];
}
export type Classifier = (
  statements: readonly string[],
  options?: { bookkeepingTables?: string[] },
) => Promise<ClassifiedStatement[]>;
/** The same classifier keeping each input's verdicts apart, in one round trip (classify.ts's classifyEach). */
export type BatchClassifier = (
  statements: readonly string[],
  options?: { bookkeepingTables?: string[] },
) => Promise<ClassifiedStatement[][]>;

export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  group<T>(name: string, body: () => Promise<T>): Promise<T>;
}

export interface RollbackOptions {
  /** PostgreSQL connection URL (secret: it and its password are masked and scrubbed). */
  databaseUrl: string;
  settings: MigrationSettings;
  /** What the run does. */
  mode: Mode;
  /** What to undo (plan, rollback, down), from steps / to / all / migration (one batch when none is given). */
  request: PlanRequest;
  /** Run the downs in a transaction that is always rolled back, and report their SQL. */
  dryRun: boolean;
  /** Commit even when the downs destroy data or remove security. */
  allowDestructive: boolean;
  /** Run a plan containing non-transactional migrations in segments. */
  allowNonAtomic: boolean;
  /** The plan-fingerprint of a reviewed plan: the run refuses if what it would undo differs. */
  expectedPlan?: string;
  /** lock_timeout of every session, in ms. */
  lockTimeoutMs: number;
  /** statement_timeout of every session, in ms. */
  statementTimeoutMs: number;
  /** mode unlock: free Knex's lock row when no session holds it. */
  forceUnlock: boolean;
  /** Shown in pg_stat_activity so a blocked run can name us. */
  applicationName: string;
  classify: Classifier;
  /** Optional: classifies every captured statement in one call; else `classify` is called once per statement. */
  classifyEach?: BatchClassifier;
  logger: Logger;
}

/** A statement the run executed, attributed and classified. */
export interface ReviewedStatement extends CapturedStatement {
  risk: StatementRisk;
  reasons: string[];
}

export interface RollbackResult {
  mode: Mode;
  request: PlanRequest;
  dryRun: boolean;
  before?: StatusSnapshot;
  after?: StatusSnapshot;
  plan: PlannedMigration[];
  segments: Segment[];
  fingerprint: string;
  /** The caller's own files the planned migrations load (helpers outside node_modules): the fingerprint covers them. */
  localCode: LocalCodeFile[];
  /** Migrations whose down() committed. */
  rolledBack: string[];
  /** Batches fully undone and committed. */
  batches: number[];
  statements: ReviewedStatement[];
  committed: boolean;
  warnings: string[];
  /** What unlock (or a stuck-lock refusal) checked, line by line. */
  lockChecks: string[];
  notes: string[];
}

/** An expected failure (refusal, failing down(), lock held): reported without a stack, with what the run saw. */
export class RollbackFailure extends ConfigurationError {
  constructor(
    message: string,
    readonly result: RollbackResult,
  ) {
    super(message);
  }
}

function emptyResult(options: RollbackOptions): RollbackResult {
  return {
    mode: options.mode,
    request: options.request,
    dryRun: options.dryRun,
    plan: [],
    segments: [],
    fingerprint: '',
    localCode: [],
    rolledBack: [],
    batches: [],
    statements: [],
    committed: false,
    warnings: [],
    lockChecks: [],
    notes: [],
  };
}

/** Runs one mode of the rollback action against the database. */
export async function runRollback(options: RollbackOptions): Promise<RollbackResult> {
  const { settings } = options;
  const result = emptyResult(options);
  // Files first: a bad migrations-dir is reported before anything touches the database.
  let files: MigrationFile[];
  try {
    files = listMigrationFiles(settings.directories, {
      loadExtensions: settings.loadExtensions,
      sortDirsSeparately: settings.sortDirsSeparately,
    });
  } catch (error) {
    throw new ConfigurationError(
      `Input "migrations-dir" (or the knexfile's migrations.directory): ${errorMessage(error)} Give the directory holding the project's migrations, relative to the workspace.`,
    );
  }
  if (files.length === 0) {
    throw new ConfigurationError(
      `Input "migrations-dir": ${settings.directories.join(', ')} contains no migration files (looked for ${(settings.loadExtensions ?? DEFAULT_LOAD_EXTENSIONS).join(', ')}). Point it at the directory holding the project's migrations.`,
    );
  }
  const knex = createKnex(options);
  let session: pg.Client | undefined;
  try {
    session = await connect(knex, options);
    switch (options.mode) {
      case 'status':
        result.before = result.after = await readStatus(session, settings.schemaName, settings.tableName, files);
        return result;
      case 'unlock':
        return await unlock(session, options, result, files);
      case 'plan':
        if (!options.dryRun) return await planOnly(session, options, result, files);
        return await lockedRun(knex, session, options, result, files);
      case 'rollback':
      case 'down':
        return await lockedRun(knex, session, options, result, files);
      default:
        throw new ConfigurationError(
          `Input "mode" is "${String(options.mode)}". Valid values are: [status, plan, rollback, down, unlock].`,
        );
    }
  } finally {
    if (session) knex.client.releaseConnection(session);
    await knex.destroy().catch(() => undefined);
  }
}

function createKnex(options: RollbackOptions): Knex {
  const { logger } = options;
  return knexFactory({
    client: 'pg',
    connection: {
      connectionString: options.databaseUrl,
      application_name: options.applicationName.slice(0, 63),
      connectionTimeoutMillis: 15_000,
    },
    // One dedicated session for the run, one more for a migration that must run outside
    // a transaction (allow-non-atomic) while the dedicated session keeps the advisory lock.
    pool: {
      min: 0,
      max: 2,
      // Every session the run opens carries the timeouts, so nothing waits on a production lock forever.
      afterCreate(connection: pg.Client, done: (error: Error | null, connection: pg.Client) => void) {
        connection
          .query("SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)", [
            `${options.lockTimeoutMs}ms`,
            `${options.statementTimeoutMs}ms`,
          ])
          .then(
            () => done(null, connection),
            (error: Error) => done(error, connection),
          );
      },
    },
    acquireConnectionTimeout: 30_000,
    // Knex's Migrator logs through this; its warnings repeat what we report ourselves.
    log: {
      warn: (message: string) => logger.debug(`knex: ${message}`),
      error: (message: string) => logger.debug(`knex: ${message}`),
      deprecate: (message: string) => logger.debug(`knex: ${message}`),
      debug: (message: string) => logger.debug(`knex: ${message}`),
    },
  });
}

async function connect(knex: Knex, options: RollbackOptions): Promise<pg.Client> {
  try {
    return (await knex.client.acquireConnection()) as pg.Client;
  } catch (error) {
    throw new ConfigurationError(
      `Input "database-url": could not connect to ${redactConnectionString(options.databaseUrl)}: ${errorMessage(error) || (error as { code?: string }).code || 'connection failed'}. Check the URL, the network path from the runner and the credentials. Nothing was changed.`,
    );
  }
}

/** Plan without dry-run: a read-only snapshot, no locks taken, nothing changed. */
async function planOnly(
  session: pg.Client,
  options: RollbackOptions,
  result: RollbackResult,
  files: MigrationFile[],
): Promise<RollbackResult> {
  const { settings } = options;
  await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    result.before = await readStatus(session, settings.schemaName, settings.tableName, files);
    await makePlan(result.before.applied, files, options, result);
  } finally {
    await session.query('ROLLBACK').catch(() => undefined);
  }
  result.after = result.before;
  result.notes.push(
    'Plan only: nothing was locked or changed. With dry-run: true the downs also run, in a transaction that is rolled back.',
  );
  return result;
}

/** Computes the plan from rows read under the caller's snapshot; checks expected-plan and every refusal that needs no SQL run. */
async function makePlan(
  applied: AppliedMigration[],
  files: MigrationFile[],
  options: RollbackOptions,
  result: RollbackResult,
): Promise<TrackingMigrationSource> {
  const { settings } = options;
  const selection = selectMigrations(
    applied,
    files.map((file) => file.name),
    options.request,
  );
  result.warnings.push(...selection.warnings);
  const missing = selection.rows.filter((row) => !files.some((file) => file.name === row.name));
  if (missing.length > 0) {
    throw new RollbackFailure(
      `Cannot undo ${missing.map((row) => row.name).join(', ')}: applied (in ${settings.tableName}) but no file in ${settings.directories.join(', ')}, so there is no down() to run. Restore the file(s) from the release that applied them. Nothing was changed.`,
      result,
    );
  }
  const source = new TrackingMigrationSource(files, new MigrationTracker());
  const plan: PlannedMigration[] = [];
  for (const row of selection.rows) {
    const file = files.find((candidate) => candidate.name === row.name)!;
    const module = await source.getMigration(file);
    if (typeof module.down !== 'function') {
      throw new RollbackFailure(
        `Migration ${row.name} exports no down() function, so it cannot be rolled back. Nothing was changed.`,
        result,
      );
    }
    const flag = (module.config as { transaction?: unknown } | undefined)?.transaction;
    plan.push({ ...row, transaction: typeof flag === 'boolean' ? flag : !settings.disableTransactions });
  }
  result.plan = plan;
  result.segments = buildSegments(plan);
  fingerprintPlan(result, files, settings);
  if (options.expectedPlan && options.expectedPlan !== result.fingerprint) {
    throw new RollbackFailure(
      `Input "expected-plan" is ${options.expectedPlan}, but what this run would undo now has fingerprint ${result.fingerprint}: a migration was applied or rolled back, or a migration file changed, since that plan was made. Nothing was changed. Run mode: plan again, review it, and pass its plan-fingerprint.`,
      result,
    );
  }
  const outside = plan.filter((migration) => !migration.transaction);
  if (outside.length > 0 && !options.allowNonAtomic && options.mode !== 'plan') {
    throw new RollbackFailure(nonAtomicRefusal(outside), result);
  }
  if (outside.length > 0 && options.mode === 'plan' && !options.allowNonAtomic)
    result.warnings.push(nonAtomicRefusal(outside));
  return source;
}

function nonAtomicRefusal(outside: PlannedMigration[]): string {
  return `The plan contains ${outside.map((migration) => migration.name).join(', ')}, which ${outside.length === 1 ? 'opts' : 'opt'} out of transactions (config.transaction = false, e.g. for CREATE INDEX CONCURRENTLY), so ${outside.length === 1 ? 'its' : 'their'} down() cannot run inside the rollback's transaction and the run cannot be atomic. Nothing was changed. To run it in segments (each transactional stretch atomic, each non-transactional migration alone), set allow-non-atomic: true.`;
}

/**
 * The run that may change something (rollback, down, plan with dry-run). Order matters:
 * the advisory lock is taken before anything is read, so a second run fails at once instead
 * of waiting and then running a plan it read before the first one finished.
 */
async function lockedRun(
  knex: Knex,
  session: pg.Client,
  options: RollbackOptions,
  result: RollbackResult,
  files: MigrationFile[],
): Promise<RollbackResult> {
  const { settings } = options;
  const key = advisoryKey(settings.schemaName, settings.tableName);
  if (!(await tryAdvisoryLock(session, key))) {
    const holders = await findLockHolders(session, settings.schemaName, settings.tableName);
    throw new RollbackFailure(
      `Another run holds the migration lock on ${settings.schemaName}.${settings.tableName}: ${holders.map(describeHolder).join('; ') || 'the holder ended just now'}. Nothing was read or changed. Wait for it to finish and run mode: plan again.`,
      result,
    );
  }
  const state = { sessionLost: false };
  try {
    await underLock(knex, session, options, result, files, state);
  } catch (error) {
    // What the database looks like after a failure is part of the report; read it once the lock is free.
    await releaseLock(session, key, state);
    result.after ??= await freshStatus(knex, options, files).catch(() => undefined);
    throw error;
  }
  await releaseLock(session, key, state);
  // Read after the advisory lock is released, so our own session is not reported as a holder.
  // The run ended well, so its session is alive: no new connection (and authentication) for it.
  result.after ??= await readStatus(session, settings.schemaName, settings.tableName, files);
  return result;
}

async function releaseLock(session: pg.Client, key: [number, number], state: { sessionLost: boolean }): Promise<void> {
  // A terminated session released its advisory lock with it.
  if (!state.sessionLost) await releaseAdvisoryLock(session, key).catch(() => undefined);
}

async function underLock(
  knex: Knex,
  session: pg.Client,
  options: RollbackOptions,
  result: RollbackResult,
  files: MigrationFile[],
  state: { sessionLost: boolean },
): Promise<void> {
  const { settings, logger } = options;
  const trx = await knex.transaction(undefined, { connection: session });
  let source: TrackingMigrationSource;
  try {
    await lockKnexRow(trx, session, options, result);
    const applied = await readApplied(session, settings.schemaName, settings.tableName);
    result.before = { ...(await readStatus(session, settings.schemaName, settings.tableName, files)), applied };
    source = await makePlan(applied, files, options, result);
    logPlan(options, result);
    if (result.plan.length === 0) {
      await trx.rollback().catch(() => undefined);
      result.notes.push(`Nothing to undo: ${describeRequest(options.request)} matched no applied migration.`);
      result.after = result.before;
      return;
    }
    const outside = result.plan.filter((migration) => !migration.transaction);
    if (options.dryRun && outside.length > 0) {
      const names = outside.map((m) => m.name).join(', ');
      if (!options.allowNonAtomic) {
        throw new RollbackFailure(
          `A dry run executes the downs inside a transaction that is rolled back, and ${names} cannot run inside a transaction. Nothing was changed. With allow-non-atomic: true the dry run rehearses the other migrations and leaves ${outside.length === 1 ? 'it' : 'them'} out.`,
          result,
        );
      }
      // Rehearse what can be rolled back; say plainly what was not rehearsed.
      result.warnings.push(
        `Not rehearsed: ${names} ${outside.length === 1 ? 'runs' : 'run'} outside a transaction (config.transaction = false), so the dry run cannot run ${outside.length === 1 ? 'its' : 'their'} down() and roll it back; ${outside.length === 1 ? 'it was' : 'they were'} skipped, and the SQL below does not include ${outside.length === 1 ? 'it' : 'them'}. Review ${outside.length === 1 ? 'its' : 'their'} down() by hand.`,
      );
    }
    if (outside.length === 0 || options.dryRun) {
      const rehearsed = result.plan.filter((migration) => migration.transaction);
      await logger.group(
        options.dryRun ? 'Dry run: the downs in a transaction that is rolled back' : 'Rolling back in one transaction',
        () => runAtomic(trx, source, options, result, rehearsed, outside.length > 0),
      );
      return;
    }
    // Segments: this transaction only read; each segment takes the row lock again.
    await trx.commit();
  } catch (error) {
    if (!trx.isCompleted()) await trx.rollback().catch(() => undefined);
    state.sessionLost = isSessionLost(error);
    throw error;
  }
  await logger.group('Rolling back in segments (allow-non-atomic)', () =>
    runSegments(knex, session, source, options, result),
  );
}

/** Locks Knex's lock row for this transaction and refuses when Knex's flag is set. */
async function lockKnexRow(
  trx: Knex.Transaction,
  session: pg.Client,
  options: RollbackOptions,
  result: RollbackResult,
): Promise<void> {
  const { settings } = options;
  const lockTable = `${settings.schemaName}.${lockTableName(settings.tableName)}`;
  let row;
  try {
    row = await readKnexLockRow(session, settings.schemaName, settings.tableName, { forUpdate: true });
  } catch (error) {
    if (!isLockTimeout(error)) throw error;
    await trx.rollback().catch(() => undefined);
    const holders = await findLockHolders(session, settings.schemaName, settings.tableName);
    throw new RollbackFailure(
      `Knex's lock row in ${lockTable} is locked by another session and was not released within lock-timeout (${formatDuration(options.lockTimeoutMs)}): ${holders.map(describeHolder).join('; ') || 'no holder found any more'}. A knex migrate command is probably running. Nothing was changed. Wait for it and run mode: plan again.`,
      result,
    );
  }
  if (!row.isLocked) return;
  await trx.rollback().catch(() => undefined);
  const holders = await findLockHolders(session, settings.schemaName, settings.tableName);
  result.lockChecks.push(`${lockTable}: is_locked = 1`, ...holderChecks(holders));
  throw new RollbackFailure(
    holders.length > 0
      ? `Knex's migration lock (${lockTable}.is_locked = 1) is held: ${holders.map(describeHolder).join('; ')}. A migration is running; nothing was changed. Wait for it to finish.`
      : `Knex's migration lock (${lockTable}.is_locked = 1) is set, but no session holds it: a crashed or killed run left it behind (Knex records no owner). Nothing was changed. Check that no migration is running, then run mode: unlock with force-unlock: true.`,
    result,
  );
}

function holderChecks(holders: LockHolder[]): string[] {
  return holders.length === 0
    ? [
        'No session holds the rollback advisory lock or a write lock on the migrations tables (pg_locks joined with pg_stat_activity).',
        'Not checkable: a plain `knex migrate` between two migrations holds no lock on these tables. Make sure no deploy is migrating right now.',
      ]
    : holders.map((holder) => `Held by ${describeHolder(holder)}`);
}

function migratorConfig(options: RollbackOptions, source: TrackingMigrationSource): Knex.MigratorConfig {
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

/** All downs and their bookkeeping in the one transaction: committed together or not at all. */
async function runAtomic(
  trx: Knex.Transaction,
  planSource: TrackingMigrationSource,
  options: RollbackOptions,
  result: RollbackResult,
  migrations: PlannedMigration[],
  perMigration: boolean,
): Promise<void> {
  const tracker = new MigrationTracker((name, elapsed) =>
    options.logger.info(`  ${name}: down() ran in ${formatDuration(elapsed)}`),
  );
  const source = new TrackingMigrationSource(await planSource.getMigrations(), tracker);
  const config = migratorConfig(options, source);
  const capture = new SqlCapture(trx, trx.client as KnexClientLike, tracker);
  const started = Date.now();
  try {
    await runDowns(trx, config, options, migrations, options.logger, perMigration);
  } catch (error) {
    capture.stop();
    await trx.rollback().catch(() => undefined);
    result.statements = await reviewAfterFailure(capture.statements, options);
    throw new RollbackFailure(
      describeFailure(
        error,
        tracker,
        capture,
        result.plan.map((m) => m.name),
        options,
      ),
      result,
    );
  }
  capture.stop();
  coverCodeLoadedByDowns(result, await planSource.getMigrations(), options.settings, options.dryRun);
  result.statements = await review(capture.statements, options);
  const blocked = result.statements.filter(
    (statement) => statement.risk === 'destructive' || statement.risk === 'security',
  );
  collectWarnings(result);
  if (options.dryRun) {
    await trx.rollback().catch(() => undefined);
    result.notes.push(
      `Dry run: the downs ran in a transaction that was rolled back after ${formatDuration(Date.now() - started)}; nothing was changed. While it lasted it held the same locks as a real run (the advisory lock and Knex's lock row, and whatever the downs lock), each wait bounded by lock-timeout (${formatDuration(options.lockTimeoutMs)}).`,
    );
    if (blocked.length > 0 && !options.allowDestructive) {
      result.warnings.push(
        `A real run would be refused without allow-destructive: true: ${blocked.length} statement(s) destroy data or remove security (listed under "Statements that destroy data or remove security").`,
      );
    }
    return;
  }
  if (blocked.length > 0 && !options.allowDestructive) {
    await trx.rollback().catch(() => undefined);
    throw new RollbackFailure(
      `Refused: the downs would destroy data or remove security, and allow-destructive is false. The transaction was rolled back; nothing was changed. Review these statements, then re-run with allow-destructive: true:\n${blocked.map((statement) => `- ${describeBlocked(statement)}`).join('\n')}`,
      result,
    );
  }
  await trx.commit();
  result.committed = true;
  result.rolledBack = result.plan.map((migration) => migration.name);
  result.batches = completedBatches(result.plan, result.rolledBack, result.before?.applied ?? []);
  options.logger.info(
    `Committed: ${result.rolledBack.length} migration(s) undone in ${formatDuration(Date.now() - started)}.`,
  );
}

/**
 * Drives Knex's own Migrator on the transaction: rollback() once per batch for steps/all
 * (its _getLastBatch picks the newest batch, ordered by id, as our plan does),
 * down({ name }) once per migration for to/down.
 */
async function runDowns(
  trx: Knex | Knex.Transaction,
  given: Knex.MigratorConfig,
  options: RollbackOptions,
  plan: PlannedMigration[],
  logger: Logger,
  perMigration = false,
): Promise<void> {
  // On our transaction, Knex's Migrator would still wrap each down() in a transaction of its
  // own, which inside ours is a SAVEPOINT and a RELEASE: two more round trips per migration
  // that protect nothing, since any failure rolls the whole transaction back. With
  // disableTransactions each down() runs directly on our transaction; a migration that sets
  // config.transaction itself is still honoured by Knex (true: a savepoint; false never
  // reaches a transaction, see buildSegments).
  const config = 'isTransaction' in trx && trx.isTransaction ? { ...given, disableTransactions: true } : given;
  const byBatch = (options.request.kind === 'steps' || options.request.kind === 'all') && !perMigration;
  if (byBatch) {
    for (const batch of batchesOf(plan)) {
      const names = plan.filter((migration) => migration.batch === batch).map((migration) => migration.name);
      logger.info(`batch ${batch}: ${names.join(', ')}`);
      const started = Date.now();
      const [, undone] = (await trx.migrate.rollback(config)) as [number, string[]];
      if (JSON.stringify(undone) !== JSON.stringify(names)) {
        throw new Error(
          `Knex undid ${JSON.stringify(undone)} for batch ${batch}, but the plan was ${JSON.stringify(names)}.`,
        );
      }
      logger.info(`  undone in ${formatDuration(Date.now() - started)}`);
    }
    return;
  }
  for (const migration of plan) {
    logger.info(`${migration.name} (batch ${migration.batch})`);
    await trx.migrate.down({ ...config, name: migration.name } as Knex.MigratorConfig);
  }
}

async function review(statements: CapturedStatement[], options: RollbackOptions): Promise<ReviewedStatement[]> {
  const { settings } = options;
  const bookkeepingTables = [settings.tableName, lockTableName(settings.tableName)].map(
    (table) => `${settings.schemaName}.${table}`,
  );
  const reviewed: ReviewedStatement[] = [];
  // Each verdict must stay attached to its statement (and so to its migration).
  const batched = options.classifyEach
    ? await options.classifyEach(
        statements.map((statement) => statement.sql),
        { bookkeepingTables },
      )
    : undefined;
  for (const [index, statement] of statements.entries()) {
    const verdicts = batched ? batched[index] : await options.classify([statement.sql], { bookkeepingTables });
    const worst = verdicts.reduce<ClassifiedStatement | undefined>(
      (current, verdict) => (rank(verdict.risk) > rank(current?.risk) ? verdict : current),
      undefined,
    );
    reviewed.push({
      ...statement,
      risk: worst?.risk ?? 'destructive',
      reasons: verdicts
        .flatMap((verdict) => (verdict.risk === 'safe' || verdict.risk === 'bookkeeping' ? [] : verdict.reasons))
        .concat(worst ? [] : ['the classifier returned nothing for it']),
    });
  }
  return reviewed;
}

/** After a failure the statements are still classified for the report; a classifier fault must not hide the real error. */
async function reviewAfterFailure(
  statements: CapturedStatement[],
  options: RollbackOptions,
): Promise<ReviewedStatement[]> {
  try {
    return await review(statements, options);
  } catch (error) {
    options.logger.debug(`classifying the statements of a failed run failed: ${errorMessage(error)}`);
    return statements.map((statement) => ({
      ...statement,
      risk: 'destructive',
      reasons: ['not classified (the classifier failed)'],
    }));
  }
}

const RISK_ORDER: StatementRisk[] = ['bookkeeping', 'safe', 'warning', 'security', 'destructive'];
function rank(risk: StatementRisk | undefined): number {
  return risk ? RISK_ORDER.indexOf(risk) : -1;
}

function describeBlocked(statement: ReviewedStatement): string {
  return `${statement.migration ?? '(bookkeeping)'}: "${oneLine(statement.sql)}" (${statement.risk}: ${statement.reasons.join('; ') || 'no reason given'})`;
}

function collectWarnings(result: RollbackResult): void {
  for (const statement of result.statements.filter((s) => s.risk === 'warning')) {
    result.warnings.push(
      `${statement.migration ?? '(bookkeeping)'}: "${oneLine(statement.sql)}": ${statement.reasons.join('; ')}`,
    );
  }
}

export function oneLine(sql: string, max = 200): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function isSessionLost(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  const message = errorMessage(error);
  return (
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    /Connection terminated|terminating connection|connection.*(closed|ended)/i.test(message)
  );
}

function describeFailure(
  error: unknown,
  tracker: MigrationTracker,
  capture: SqlCapture,
  planned: string[],
  options: RollbackOptions,
): string {
  const failed = capture.failed();
  const migration = failed?.migration ?? tracker.current ?? tracker.started.at(-1);
  const where = failed
    ? ` at "${oneLine(failed.sql)}"`
    : capture.statements.length
      ? ` after "${oneLine(capture.statements.at(-1)!.sql)}"`
      : '';
  const reason = failed?.error ?? serverMessage(error);
  const state = options.dryRun
    ? 'This was a dry run: nothing was changed.'
    : `Nothing was changed: the transaction was rolled back, so ${planned.join(', ')} ${planned.length === 1 ? 'is' : 'are'} still applied and ${options.settings.tableName} is as it was.`;
  if (isSessionLost(error)) {
    return `The database session was terminated while ${migration ?? 'the rollback'} was running${where}: ${reason}. PostgreSQL rolled the transaction back. ${state} Run it again.`;
  }
  if (isLockTimeout(error)) {
    return `Migration ${migration ?? '(unknown)'} waited longer than lock-timeout (${formatDuration(options.lockTimeoutMs)}) for a lock${where}: ${reason}. Something else holds a lock on the objects it changes (see pg_locks). ${state}`;
  }
  return `Migration ${migration ?? '(unknown)'} failed${where}: ${reason}. ${state}`;
}

/** Batches whose every applied migration is now undone. */
function completedBatches(plan: PlannedMigration[], undone: string[], applied: AppliedMigration[]): number[] {
  return batchesOf(plan).filter((batch) =>
    applied.filter((row) => row.batch === batch).every((row) => undone.includes(row.name)),
  );
}

/**
 * allow-non-atomic: each transactional stretch in its own transaction (atomic, guarded like
 * the atomic run), each non-transactional migration alone through Knex's Migrator outside a
 * transaction. The dedicated session keeps the advisory lock across all of them.
 */
async function runSegments(
  knex: Knex,
  session: pg.Client,
  planSource: TrackingMigrationSource,
  options: RollbackOptions,
  result: RollbackResult,
): Promise<void> {
  const { settings, logger } = options;
  const tracker = new MigrationTracker((name, elapsed) =>
    options.logger.info(`  ${name}: down() ran in ${formatDuration(elapsed)}`),
  );
  const source = new TrackingMigrationSource(await planSource.getMigrations(), tracker);
  const config = migratorConfig(options, source);
  const undone: string[] = [];
  for (const [index, segment] of result.segments.entries()) {
    const label = `segment ${index + 1} of ${result.segments.length} (${segment.transactional ? 'one transaction' : 'outside a transaction'}): ${segment.migrations.join(', ')}`;
    logger.info(label);
    const planned = result.plan.filter((migration) => segment.migrations.includes(migration.name));
    if (segment.transactional) {
      const trx = await knex.transaction(undefined, { connection: session });
      const capture = new SqlCapture(trx, trx.client as KnexClientLike, tracker);
      try {
        await lockKnexRow(trx, session, options, result);
        const applied = await readApplied(session, settings.schemaName, settings.tableName);
        const stillThere = planned.every((migration) =>
          applied.some((row) => row.id === migration.id && row.name === migration.name),
        );
        if (!stillThere) throw new Error(`the migrations of this segment are no longer applied as planned`);
        await runDowns(trx, config, options, planned, logger, true);
        capture.stop();
        const reviewed = await review(capture.statements, options);
        result.statements.push(...reviewed);
        const blocked = reviewed.filter(
          (statement) => statement.risk === 'destructive' || statement.risk === 'security',
        );
        if (blocked.length > 0 && !options.allowDestructive) {
          throw new Error(
            `refused: allow-destructive is false and the segment runs ${blocked.map(describeBlocked).join('; ')}`,
          );
        }
        await trx.commit();
      } catch (error) {
        capture.stop();
        if (!trx.isCompleted()) await trx.rollback().catch(() => undefined);
        if (error instanceof RollbackFailure) throw error;
        // Statements already reviewed (a destructive refusal) are in result.statements; otherwise add them now.
        if (
          !result.statements.some((statement) =>
            capture.statements.some(
              (captured) => captured.sql === statement.sql && captured.migration === statement.migration,
            ),
          )
        ) {
          result.statements.push(...(await reviewAfterFailure(capture.statements, options)));
        }
        throw new RollbackFailure(
          segmentFailure(error, tracker, capture, index, result, undone, options, true),
          result,
        );
      }
    } else {
      // Knex's Migrator on the pool's other session: it runs the down outside a transaction,
      // as the migration asks, and takes and frees its lock row itself.
      const capture = new SqlCapture(knex, knex.client as KnexClientLike, tracker);
      try {
        await runDowns(knex, config, options, planned, logger, true);
        capture.stop();
        const reviewed = await review(capture.statements, options);
        result.statements.push(...reviewed);
        for (const statement of reviewed.filter((s) => s.risk === 'destructive' || s.risk === 'security')) {
          result.warnings.push(
            `Ran outside a transaction, so it could not be checked before it ran: ${describeBlocked(statement)}.`,
          );
        }
      } catch (error) {
        capture.stop();
        result.statements.push(...(await reviewAfterFailure(capture.statements, options)));
        throw new RollbackFailure(
          segmentFailure(error, tracker, capture, index, result, undone, options, false),
          result,
        );
      }
    }
    undone.push(...segment.migrations);
    result.rolledBack = [...undone];
  }
  result.committed = true;
  collectWarnings(result);
  result.batches = completedBatches(result.plan, undone, result.before?.applied ?? []);
}

function segmentFailure(
  error: unknown,
  tracker: MigrationTracker,
  capture: SqlCapture,
  index: number,
  result: RollbackResult,
  undone: string[],
  options: RollbackOptions,
  transactional: boolean,
): string {
  const failed = capture.failed();
  const migration = failed?.migration ?? tracker.current ?? result.segments[index].migrations[0];
  const where = failed ? ` at "${oneLine(failed.sql)}"` : '';
  const reason = failed?.error ?? serverMessage(error);
  const remaining = result.plan.map((m) => m.name).filter((name) => !undone.includes(name));
  const segmentState = transactional
    ? `Segment ${index + 1} of ${result.segments.length} ran in a transaction that was rolled back, so its migrations are still applied.`
    : `Segment ${index + 1} of ${result.segments.length} ran outside a transaction: ${migration}'s down() may have partly run, and its row in ${options.settings.tableName} is still there. Check its objects before resuming.`;
  return [
    `Migration ${migration} failed${where}: ${reason}.`,
    segmentState,
    `Undone and committed: ${undone.length ? undone.join(', ') : '(none)'}.`,
    `Still applied: ${remaining.join(', ')}.`,
    `To resume once fixed: ${resumeInputs(
      remaining,
      (result.before?.applied ?? []).filter((row) => !undone.includes(row.name)),
      options,
    )}.`,
  ].join(' ');
}

/** The inputs that undo exactly the remaining migrations, given what is applied now. */
export function resumeInputs(remaining: string[], applied: AppliedMigration[], options: RollbackOptions): string {
  const extra = `allow-non-atomic: true${options.allowDestructive ? ', allow-destructive: true' : ''}`;
  const remainingRows = applied.filter((row) => remaining.includes(row.name));
  const minId = Math.min(...remainingRows.map((row) => row.id));
  const below = applied.filter((row) => row.id < minId).sort((a, b) => b.id - a.id)[0];
  const contiguous = applied.filter((row) => row.id >= minId).every((row) => remaining.includes(row.name));
  if (contiguous && below) return `mode: rollback, to: ${JSON.stringify(below.name)}, ${extra}`;
  if (contiguous) return `mode: rollback, all: true, ${extra}`;
  return remaining.map((name) => `mode: down, migration: ${JSON.stringify(name)}, ${extra}`).join(', then ');
}

async function freshStatus(knex: Knex, options: RollbackOptions, files: MigrationFile[]): Promise<StatusSnapshot> {
  // A new session: the dedicated one may have been terminated.
  const connection = (await knex.client.acquireConnection()) as pg.Client;
  try {
    return await readStatus(connection, options.settings.schemaName, options.settings.tableName, files);
  } finally {
    knex.client.releaseConnection(connection);
  }
}

function logPlan(options: RollbackOptions, result: RollbackResult): void {
  const { logger } = options;
  logger.info(
    `Plan (${describeRequest(options.request)}): ${result.plan.length ? result.plan.map((m) => `${m.name} [batch ${m.batch}${m.transaction ? '' : ', outside a transaction'}]`).join(', ') : 'nothing'}`,
  );
  logger.info(`plan-fingerprint: ${result.fingerprint}`);
}

/**
 * mode: unlock. Frees Knex's lock row only when no session holds the migration lock
 * (advisory lock or a write lock on the tables), and only with force-unlock: true.
 */
async function unlock(
  session: pg.Client,
  options: RollbackOptions,
  result: RollbackResult,
  files: MigrationFile[],
): Promise<RollbackResult> {
  const { settings } = options;
  const lockTable = `${settings.schemaName}.${lockTableName(settings.tableName)}`;
  result.before = await readStatus(session, settings.schemaName, settings.tableName, files);
  const { lock } = result.before;
  result.lockChecks.push(
    lock.tableExists
      ? `${lockTable}: is_locked = ${lock.isLocked ? 1 : 0}`
      : `${lockTable} does not exist: Knex never took a lock here.`,
    ...holderChecks(lock.holders),
  );
  if (!lock.tableExists || !lock.isLocked) {
    result.after = result.before;
    result.notes.push('Not locked: nothing to free, nothing was changed.');
    return result;
  }
  if (lock.holders.length > 0) {
    result.after = result.before;
    throw new RollbackFailure(
      `Knex's migration lock is set and held: ${lock.holders.map(describeHolder).join('; ')}. A run is in progress; it was not freed. Wait for it to finish.`,
      result,
    );
  }
  if (!options.forceUnlock) {
    result.after = result.before;
    throw new RollbackFailure(
      `Knex's migration lock (${lockTable}.is_locked = 1) is set and no session holds it: a crashed run left it. It was not freed because force-unlock is false. Re-run mode: unlock with force-unlock: true to free it.`,
      result,
    );
  }
  // Hold the advisory lock while freeing, so no run of ours starts in between; re-check under the row lock.
  const key = advisoryKey(settings.schemaName, settings.tableName);
  if (!(await tryAdvisoryLock(session, key))) {
    const holders = await findLockHolders(session, settings.schemaName, settings.tableName);
    throw new RollbackFailure(
      `A run took the migration lock just now: ${holders.map(describeHolder).join('; ')}. Nothing was freed.`,
      result,
    );
  }
  try {
    await session.query('BEGIN');
    try {
      await readKnexLockRow(session, settings.schemaName, settings.tableName, { forUpdate: true });
      const holders = await findLockHolders(session, settings.schemaName, settings.tableName);
      if (holders.length > 0)
        throw new RollbackFailure(
          `A session took the lock while unlocking: ${holders.map(describeHolder).join('; ')}. Nothing was freed.`,
          result,
        );
      const updated = await session.query(
        `UPDATE ${qualified(settings.schemaName, lockTableName(settings.tableName))} SET is_locked = 0 WHERE is_locked = 1`,
      );
      await session.query('COMMIT');
      result.lockChecks.push(
        `Re-checked under the row lock and the advisory lock: no holder. Set is_locked = 0 on ${(updated as { rowCount?: number }).rowCount ?? 0} row(s).`,
      );
    } catch (error) {
      await session.query('ROLLBACK').catch(() => undefined);
      if (isLockTimeout(error))
        throw new RollbackFailure(
          `Knex's lock row is locked by another session (waited ${formatDuration(options.lockTimeoutMs)}). Nothing was freed.`,
          result,
        );
      throw error;
    }
  } finally {
    await releaseAdvisoryLock(session, key).catch(() => undefined);
  }
  result.committed = true;
  result.after = await readStatus(session, settings.schemaName, settings.tableName, files);
  result.notes.push(`Freed Knex's migration lock on ${lockTable}.`);
  return result;
}
