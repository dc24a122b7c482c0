import { systemClock, type Clock } from '../common/clock.js';
import { ConfigurationError } from '../common/errors.js';
import { silentLogger, type Logger } from '../common/logger.js';
import { StatementGuard } from '../migrations/guard.js';
import { FileMigrationSource, type MigrationFile } from '../migrations/source.js';
import { classifyEach } from '../sql/classify.js';
import type { CheckResult } from './check-result.js';
import { checkSteps, replayStep, StopBatch, uncheckedStep, type RunContext, type Stop } from './check-steps.js';
import { collectActivity, dataFindings, type DataContext } from './data-findings.js';
import { runSteps, type Step, type StepSettings } from './knex-steps.js';
import { QueryObserver } from './query-observer.js';
import { bookkeepingTables, type CaptureOptions } from './schema-capture.js';
import {
  assertCanCreateDatabases,
  CheckCancelled,
  ScratchDatabases,
  type ScratchSecurity,
} from './scratch-database.js';
import { Session, type SessionWatch } from './session.js';

// The up/down/up loop. Every up() and down() runs through Knex's own Migrator, as
// `knex migrate:latest` and the rollback action run them (knex-steps.ts): one committed
// transaction per step where Knex would use one, none where the migration or
// disableTransactions says so, recorded in the migrations table. The commit between steps
// matters: an enum value added by one migration cannot be used by a later one inside the
// same transaction.

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
  /** The schema compared: the one the migrations write to (`public`). */
  schema?: string;
  /** Knex's migrations.schemaName: the schema of its migrations table (`public`), not the one compared. */
  schemaName?: string;
  /** Knex's migrations.disableTransactions (the knexfile's): migrations without config.transaction run outside one. */
  disableTransactions?: boolean;
  logger?: Logger;
  clock?: Clock;
  /**
   * Cancels the check (SIGINT, SIGTERM): no step or database is started after it fires, every
   * scratch database is dropped at once (ending a down() that is still running), and the check
   * rejects with CheckCancelled once all of them are gone.
   */
  signal?: AbortSignal;
}

export type { CheckResult, MigrationCheck, Outcome } from './check-result.js';

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

/**
 * Checks every selected migration in file order on a scratch database of its own:
 * capture, up(), down(), capture and compare, up() again. Whatever goes wrong in one
 * check, the next starts from the state that migration's up() alone leaves (rebuilt by
 * replaying the ups on a fresh database), so one broken down() cannot hide the next.
 */
export async function checkReversibility(options: CheckOptions): Promise<CheckResult> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const started = clock.now();
  const tableName = options.migrationsTable ?? 'knex_migrations';
  const schema = options.schema ?? 'public';
  const schemaName = options.schemaName ?? 'public';
  const selected = resolveOnly(options.files, options.only);
  const lastIndex = Math.max(...options.files.map((file, index) => (selected.has(file.name) ? index : -1)));
  const files = options.files.slice(0, lastIndex + 1);
  const source = new FileMigrationSource(files, { disableTransactions: options.disableTransactions });

  // Load everything before the first write: a migration that cannot load is a ConfigurationError.
  for (const file of files) await source.getMigration(file);
  await assertCanCreateDatabases(options.serverUrl, options.security);

  const scratch = new ScratchDatabases(options.serverUrl, logger, options.security);
  // Dropping the databases at once ends whatever a migration is running on them; the loop,
  // which starts nothing once the signal fired, then unwinds and drops what is left.
  const onAbort = () => void scratch.dropAll(String(options.signal?.reason ?? 'cancelled'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const observer = new QueryObserver();
  // The rollback's statement guard, observing only: the same code decides what a statement does in both actions.
  const guard = new StatementGuard(
    classifyEach,
    bookkeepingTables(tableName).map((table) => `${schemaName}.${table}`),
    { atomic: false, dryRun: false, allowDestructive: true, observe: true },
  );
  const watch: SessionWatch = { guard, observer, schemaName, logger };
  const context: RunContext = {
    session: undefined as unknown as Session,
    capture: { schema, exclude: bookkeepingTables(tableName) } satisfies CaptureOptions,
    observer,
    guard,
    timersLeft: new Set(),
    schemaSeen: false,
    clock,
    logger,
    signal: options.signal,
    result: { checks: [], appliedUnchecked: [], notReached: [], rebuilds: 0, durationMs: 0 },
    tablesBefore: new Map(),
  };
  const run: Run = {
    context,
    files,
    selected,
    source,
    scratch,
    watch,
    settings: { tableName, schemaName, disableTransactions: options.disableTransactions ?? false },
  };
  try {
    refuseWhenCancelled(options.signal);
    context.session = await Session.open(await scratch.create(), watch);
    logger.info(
      `Scratch database ${context.session.database.name} created; checking ${selected.size} of ${options.files.length} migration(s).`,
    );
    await runAll(run);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await context.session?.close();
    await scratch.dropAll();
  }
  refuseWhenCancelled(options.signal);
  refuseWhenNothingCompared(context, schema);
  await addWarnings(context, schema);
  context.result.durationMs = clock.now() - started;
  return context.result;
}

interface Run {
  context: RunContext;
  files: readonly MigrationFile[];
  selected: ReadonlySet<string>;
  source: FileMigrationSource;
  scratch: ScratchDatabases;
  watch: SessionWatch;
  settings: StepSettings;
}

/** Hands the Migrator every step from `from` on; after a failed check, rebuilds and goes on after it. */
async function runAll(run: Run): Promise<void> {
  const { context, files } = run;
  let from = 0;
  let replayed: MigrationFile[] = [];
  for (let batch = 1; from < files.length; batch++) {
    const steps: Step[] = [
      ...replayed.map((file, index) => replayStep(context, file, index)),
      ...files.slice(from).flatMap((file, offset) => stepsOf(run, file, from + offset)),
    ];
    const stopped = await runUntilStopped(run, steps, batch);
    if (!stopped) return;
    if (stopped.kind === 'unchecked') {
      throw new Error(
        `Migration ${files[stopped.index].name} (applied before the checked ones, as "only" asks) failed in up(): ${stopped.error}`,
      );
    }
    if (stopped.kind === 'replay') {
      throw new Error(
        `Rebuilding the state after a failed check, migration ${files[stopped.index].name} failed in up(): ${stopped.error}`,
      );
    }
    const check = context.result.checks.at(-1)!;
    if (check.failure?.step === 'up') {
      context.result.notReached = files
        .slice(stopped.index + 1)
        .map((file) => file.name)
        .filter((later) => run.selected.has(later));
      return;
    }
    from = stopped.index + 1;
    if (from >= files.length) return;
    replayed = files.slice(0, from);
    await rebuild(run, replayed.at(-1)!);
  }
}

function stepsOf(run: Run, file: MigrationFile, index: number): Step[] {
  return run.selected.has(file.name) ? checkSteps(run.context, file, index) : [uncheckedStep(run.context, file, index)];
}

/** Runs the steps; resolves with why a step stopped them, or undefined when all ran. */
async function runUntilStopped(run: Run, steps: Step[], batch: number): Promise<Stop | undefined> {
  try {
    await runSteps(run.context.session.knex, steps, run.source, run.settings, batch);
    return undefined;
  } catch (error) {
    refuseWhenCancelled(run.context.signal);
    if (error instanceof StopBatch) return error.stop;
    throw error;
  }
}

/** A fresh database for the next check: the old one's state after a failed check cannot be trusted. */
async function rebuild(run: Run, last: MigrationFile): Promise<void> {
  const { context, scratch } = run;
  const old = context.session;
  context.session = await Session.open(await scratch.create(), run.watch);
  context.logger.info(
    `  rebuilding the state after ${last.name} on ${context.session.database.name}: ` +
      `the state of ${old.database.name} after a failed check cannot be trusted`,
  );
  await old.close();
  await scratch.drop(old.database.name);
  context.result.rebuilds++;
}

/**
 * A compared schema that held nothing but extensions after every up() that ran means the
 * migrations write elsewhere: every check would pass while comparing nothing.
 */
function refuseWhenNothingCompared(context: RunContext, schema: string): void {
  const ranUp = context.result.checks.filter((check) => check.failure?.step !== 'up');
  if (context.schemaSeen || ranUp.length === 0) return;
  throw new ConfigurationError(
    `Schema "${schema}" held no table, view, type or function after any up() of the ${ranUp.length} migration(s) checked, so nothing was compared and no result can be trusted. ` +
      `Set the input "schema" to the schema the migrations write to (the knexfile's migrations.schemaName is where Knex keeps its migrations table, not the schema compared).`,
  );
}

/** Data warnings for each checked migration, once every query the run left behind has settled. */
async function addWarnings(context: RunContext, schema: string): Promise<void> {
  const { guard, observer } = context;
  const activity = collectActivity(
    guard.observed,
    (frame) => observer.stepOf(frame),
    observer.results(),
    context.timersLeft,
  );
  const migrations = new Map<string, DataContext>();
  for (const [name, tablesBefore] of context.tablesBefore) {
    const ofMigration = activity.get(name);
    if (ofMigration) migrations.set(name, { tablesBefore, activity: ofMigration });
  }
  const findings = await dataFindings(migrations, schema);
  for (const check of context.result.checks) check.warnings = findings.get(check.name) ?? [];
}

function refuseWhenCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CheckCancelled(String(signal.reason ?? 'cancelled'));
}
