// The rollback action's core: one entry point that opens the run's session and hands it to
// the mode. Each mode lives in a module of its own: status below, plan in planning.ts,
// rollback/down/dry run in locked-run.ts (atomic-run.ts, segmented-run.ts), unlock in unlock.ts.
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { ConfigurationError, errorMessage } from '../common/errors.js';
import { noCleanup } from '../common/shutdown.js';
import { connectionFailure, postgresConfig } from '../postgres/connection.js';
import { BlockerWatch } from './blockers.js';
import { StatementGuard } from './guard.js';
import { LockAttempts } from './lock-retry.js';
import { cancelOnSignal, type CancelTarget } from './run-cancel.js';
import {
  applySessionSettings,
  keepAliveConfig,
  logSessionSettings,
  type SessionLimits,
  type SessionSettingsReport,
} from './session-settings.js';
import { lockTableName } from './lock.js';
import { lockedRun } from './locked-run.js';
import { MigrationsTable } from './migrations-table.js';
import { planOnly } from './planning.js';
import { checkMigrationsTable, checkWritable, modeWrites } from './preflight.js';
import {
  type BatchClassifier,
  combine,
  completeResult,
  DATA_MODES,
  MODES,
  RollbackFailure,
  type RollbackOptions,
  type RollbackResult,
  type RunFragment,
} from './run-types.js';
import { DEFAULT_LOAD_EXTENSIONS, listMigrationFiles, type MigrationFile } from './source.js';
import { unlock } from './unlock.js';
import {
  attachPreserver,
  checkPreserveLimitFirst,
  estimateDataMode,
  keptBy,
  preservedDataMode,
} from './preserve-modes.js';

export { MODES, RollbackFailure } from './run-types.js';
export type {
  BatchClassifier,
  ClassifiedStatement,
  Classifier,
  Mode,
  ReviewedStatement,
  RollbackOptions,
  RollbackResult,
  StatementRisk,
} from './run-types.js';
export { oneLine } from './review.js';
export { resumeInputs } from './segmented-run.js';

/** Runs one mode of the rollback action against the database. */
export async function runRollback(options: RollbackOptions): Promise<RollbackResult> {
  if (!(MODES as readonly string[]).includes(options.mode)) {
    throw new ConfigurationError(`Input "mode" is "${String(options.mode)}". Valid values are: [${MODES.join(', ')}].`);
  }
  // restore-data and prune-data touch only the preserved copies, estimate-data only the catalog: no migration is read.
  const files = DATA_MODES.includes(options.mode) ? [] : migrationFiles(options);
  const guard = runsMigrations(options) ? createGuard(options) : undefined;
  const preserver = guard && options.preserve?.enabled ? attachPreserver(guard, options.preserve) : undefined;
  const settingsSeen: SessionSettingsReport[] = [];
  const knex = createKnex(options, guard, settingsSeen);
  let session: pg.Client | undefined;
  let side: pg.Client | undefined;
  try {
    session = await connect(knex, options);
    logSessionSettings(options.logger, sessionLimits(options), settingsSeen[0]);
    side = guard ? await openSide(options) : undefined;
    const run = runControl(options, side, session);
    if (preserver) run.attempts.checkpoints.push(() => preserver.checkpoint());
    const running = runMode(knex, session, options, files, guard, run);
    const unregister = side
      ? cancelOnSignal(options.onCleanup ?? noCleanup, cancelTarget(options, side, session, run, running))
      : undefined;
    try {
      const fragment = await running;
      return completeResult(options, { ...fragment, ...keptBy(preserver, fragment.committed === true) });
    } finally {
      unregister?.();
    }
  } catch (error) {
    if (error instanceof RollbackFailure) error.followedBy(keptBy(preserver, false)).complete(options);
    throw error;
  } finally {
    await side?.end().catch(() => undefined);
    if (session) void poolOf(knex).releaseConnection(session);
    await knex.destroy().catch(() => undefined);
  }
}

/** What the attempts and a cancel share: one attempt loop, one list of what committed. */
interface RunControl {
  attempts: LockAttempts;
  committed: string[];
}

function runControl(options: RollbackOptions, side: pg.Client | undefined, session: pg.Client): RunControl {
  const watch = side
    ? new BlockerWatch(side, backendPid(session), { showQueries: options.showBlockerQueries, intervalMs: 50 })
    : undefined;
  return { attempts: new LockAttempts(options, watch), committed: [] };
}

function cancelTarget(
  options: RollbackOptions,
  side: pg.Client,
  session: pg.Client,
  run: RunControl,
  running: Promise<unknown>,
): CancelTarget {
  return {
    side,
    pid: backendPid(session),
    settled: running,
    stopStarting: () => run.attempts.cancel(),
    committed: () =>
      options.dryRun || options.mode === 'plan'
        ? 'This was a dry run: nothing was committed.'
        : run.committed.length
          ? `Committed before the cancel: ${run.committed.join(', ')} (their segments were finished); everything after is still applied.`
          : 'Nothing was committed: every migration of the plan is still applied.',
    logger: options.logger,
    clock: options.clock,
  };
}

function sessionLimits(options: RollbackOptions): SessionLimits {
  return {
    lockTimeoutMs: options.lockTimeoutMs,
    statementTimeoutMs: options.statementTimeoutMs,
    sessionIdleTimeoutMs: options.sessionIdleTimeoutMs,
  };
}

/**
 * The run's second connection: it watches the run's session for the sessions blocking it, and
 * cancels its statement on SIGINT/SIGTERM. Never guarded: it runs no migration code.
 */
async function openSide(options: RollbackOptions): Promise<pg.Client | undefined> {
  // The same connection config as the run's sessions (TLS, IAM token), under a name of its own.
  const side = new pg.Client({
    ...postgresConfig(
      { ...options.security, url: options.databaseUrl },
      { applicationName: `${options.applicationName.slice(0, 55)} (watch)`, connectTimeoutMs: 15_000 },
    ),
    ...keepAliveConfig,
  });
  // The server may end this session (a terminated run, say): an unheard 'error' event would crash the process.
  side.on('error', () => undefined);
  try {
    await side.connect();
    await applySessionSettings(side, { ...sessionLimits(options), statementTimeoutMs: 10_000 });
    return side;
  } catch (error) {
    await side.end().catch(() => undefined);
    options.logger.warning(
      `Could not open the run's second connection (${errorMessage(error)}): blockers will not be named, and a cancelled run cannot cancel its running statement (the server ends it at statement-timeout).`,
    );
    return undefined;
  }
}

/** Whether the mode runs migration code: only then is there anything to guard. */
function runsMigrations(options: RollbackOptions): boolean {
  return options.mode === 'rollback' || options.mode === 'down' || (options.mode === 'plan' && options.dryRun);
}

function createGuard(options: RollbackOptions): StatementGuard {
  const { schemaName, tableName } = options.settings;
  const classifyEach: BatchClassifier =
    options.classifyEach ??
    ((statements, classifyOptions) =>
      Promise.all(statements.map((statement) => options.classify([statement], classifyOptions))));
  return new StatementGuard(
    classifyEach,
    [tableName, lockTableName(tableName)].map((table) => `${schemaName}.${table}`),
    { atomic: true, dryRun: options.dryRun, allowDestructive: options.allowDestructive },
  );
}

async function runMode(
  knex: Knex,
  session: pg.Client,
  options: RollbackOptions,
  files: MigrationFile[],
  guard: StatementGuard | undefined,
  run: RunControl,
): Promise<RunFragment> {
  // The action's own statements bypass the guard: they are not a migration's.
  const own = guard ? guard.rawOf(session) : session;
  const table = new MigrationsTable(own, options.settings.schemaName, options.settings.tableName);
  if (modeWrites(options)) await checkWritable(table, options);
  const notes = await checkMigrationsTable(table, options);
  switch (options.mode) {
    case 'status': {
      const status = await table.readStatus(files);
      return { before: status, after: status, notes };
    }
    case 'unlock':
      return unlock(table, options, files);
    case 'restore-data':
    case 'prune-data':
      return preservedDataMode(own, options);
    case 'estimate-data':
      return estimateDataMode(own, options);
    case 'plan':
    case 'rollback':
    case 'down':
      if (!guard) return planOnly(table, options, files);
      return withoutConnectionString(options.databaseUrl, async () =>
        combine(
          await checkPreserveLimitFirst(own, options),
          await lockedRun({
            knex,
            session,
            table,
            options,
            files,
            guard,
            freshStatus: () => freshStatus(knex, table, guard, files),
            ...run,
          }),
        ),
      );
  }
}

/** Files first: a bad migrations-dir is reported before anything touches the database. */
function migrationFiles(options: RollbackOptions): MigrationFile[] {
  const { settings } = options;
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
  return files;
}

function createKnex(
  options: RollbackOptions,
  guard: StatementGuard | undefined,
  settingsSeen: SessionSettingsReport[],
): Knex {
  const { logger } = options;
  return knexFactory({
    client: 'pg',
    connection: {
      ...postgresConfig(
        { ...options.security, url: options.databaseUrl },
        { applicationName: options.applicationName, connectTimeoutMs: 15_000 },
      ),
      ...keepAliveConfig,
    },
    // One dedicated session for the run, one more for a migration that must run outside
    // a transaction (allow-non-atomic) while the dedicated session keeps the advisory lock.
    pool: {
      min: 0,
      max: 2,
      // Every session the run opens carries the timeouts, so nothing waits on a production lock forever.
      afterCreate(connection: pg.Client, done: (error: Error | null, connection: pg.Client) => void) {
        applySessionSettings(connection, sessionLimits(options)).then(
          (report) => {
            settingsSeen.push(report);
            // Every session the run opens is guarded: a migration that is given Knex reaches no other.
            guard?.install(connection);
            done(null, connection);
          },
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

/** The two pool calls of Knex's client this module makes (knex.client is untyped). */
function poolOf(knex: Knex): {
  acquireConnection(): Promise<pg.Client>;
  releaseConnection(connection: pg.Client): unknown;
} {
  return knex.client as ReturnType<typeof poolOf>;
}

/**
 * Migration code runs in this process: while it does, the action's connection string is
 * not in its environment (the runner passes inputs as INPUT_* variables). A migration that
 * opens its own connection is outside the guard; at least it is not handed the credentials.
 */
async function withoutConnectionString<T>(databaseUrl: string, body: () => Promise<T>): Promise<T> {
  const password = safePassword(databaseUrl);
  const hidden = Object.entries(process.env).filter(
    ([, value]) =>
      value !== undefined && (value.includes(databaseUrl) || (password !== undefined && value.includes(password))),
  );
  for (const [name] of hidden) delete process.env[name];
  try {
    return await body();
  } finally {
    for (const [name, value] of hidden) process.env[name] = value;
  }
}

function safePassword(databaseUrl: string): string | undefined {
  try {
    const password = decodeURIComponent(new URL(databaseUrl).password);
    // A password this short would match unrelated variables.
    return password.length >= 6 ? password : undefined;
  } catch {
    return undefined;
  }
}

async function connect(knex: Knex, options: RollbackOptions): Promise<pg.Client> {
  try {
    return await poolOf(knex).acquireConnection();
  } catch (error) {
    throw connectionFailure(error, { ...options.security, url: options.databaseUrl });
  }
}

async function freshStatus(knex: Knex, table: MigrationsTable, guard: StatementGuard, files: MigrationFile[]) {
  // A new session: the dedicated one may have been terminated.
  const connection = await poolOf(knex).acquireConnection();
  try {
    return await table.on(guard.rawOf(connection)).readStatus(files);
  } finally {
    void poolOf(knex).releaseConnection(connection);
  }
}

/** The run's backend pid (pg sets it at connect; @types/pg does not declare it). */
function backendPid(session: pg.Client): number {
  return (session as unknown as { processID: number }).processID;
}
