import { formatDuration, parseDuration } from '../../common/duration.js';
import { ConfigurationError } from '../../common/errors.js';
import type { PlanRequest } from '../../migrations/plan.js';
import type { RollbackOptions } from '../../migrations/rollback.js';
import { FINGERPRINT_PATTERN } from '../../migrations/fingerprint.js';
import { MODES } from '../../migrations/run-types.js';
import { awsRegionInput, databaseUrlInput, iamAuthInput, sslCaInput, type Database } from '../common/database.js';
import { choice, custom, duration, flag, integer, text, type ParsedInputs } from '../common/inputs.js';
import { workingDirectory } from '../common/working-directory.js';

/** lock_timeout and statement_timeout: PostgreSQL takes at most 2^31 - 1 ms; 0 would mean no limit at all. */
const POSTGRES_TIMEOUT = {
  min: 1,
  max: 2_147_483_647,
  why: 'what PostgreSQL accepts for lock_timeout and statement_timeout (0, no limit, is not allowed)',
};

/** The rollback action's inputs as action.yml declares them; `rollbackInputs` checks how they combine. */
export const inputs = {
  // The secret first: masked, with its password, before any other input can cause a log line.
  databaseUrl: databaseUrlInput({ required: true }),
  sslCa: sslCaInput(),
  iamAuth: iamAuthInput(),
  awsRegion: awsRegionInput(),
  workingDirectory: workingDirectory(),
  knexfile: text('knexfile'),
  knexEnvironment: text('knex-environment', { default: 'production' }),
  migrationsDir: text('migrations-dir'),
  migrationsTable: text('migrations-table'),
  schema: text('schema'),
  mode: choice('mode', MODES, 'plan'),
  steps: integer('steps', { min: 1 }),
  to: text('to'),
  all: flag('all', false),
  migration: text('migration'),
  dryRun: flag('dry-run', false),
  allowDestructive: flag('allow-destructive', false),
  allowNonAtomic: flag('allow-non-atomic', false),
  expectedPlan: custom('expected-plan', (value, name) => {
    if (value !== undefined && !FINGERPRINT_PATTERN.test(value)) {
      throw new ConfigurationError(
        `Input "${name}" is "${value}": it must be the plan-fingerprint output of a plan run (64 hexadecimal characters).`,
      );
    }
    return value;
  }),
  lockTimeoutMs: positiveDuration('lock-timeout', '200ms', 'the longest lock wait of one attempt'),
  lockWaitBudgetMs: positiveDuration('lock-wait-budget', '10m', 'how long the run may keep retrying lock waits'),
  sessionIdleTimeoutMs: positiveDuration(
    'session-idle-timeout',
    '1m',
    'idle_in_transaction_session_timeout: 1s or more, since the run itself sits idle between statements',
    1000,
  ),
  showBlockerQueries: flag('show-blocker-queries', true),
  statementTimeoutMs: duration('statement-timeout', '15m', POSTGRES_TIMEOUT),
  forceUnlock: flag('force-unlock', false),
};

/** A duration input that must be at least `min` ms: a negative or zero one is a mistake, named as such. */
function positiveDuration(name: string, fallback: string, what: string, min = 1) {
  return custom(
    name,
    (value, input) => {
      const given = value ?? fallback;
      const ms = parseDuration(given);
      // PostgreSQL takes these settings in ms as a 32-bit integer.
      if (ms === undefined || ms < min || ms > POSTGRES_TIMEOUT.max) {
        throw new ConfigurationError(
          `Input "${input}" is "${given}": it must be a duration${min >= 1000 ? ` of at least ${formatDuration(min)}` : ' above zero'} (${what}), such as ${fallback}, 30s, 5m or 1h30m (units ms, s, m, h, d).`,
        );
      }
      return ms;
    },
    { default: fallback },
  );
}

/** The run's options as the inputs give them, and where to read the migrations settings from. */
export interface RollbackInputs extends Pick<
  RollbackOptions,
  | 'databaseUrl'
  | 'security'
  | 'mode'
  | 'request'
  | 'dryRun'
  | 'allowDestructive'
  | 'allowNonAtomic'
  | 'expectedPlan'
  | 'lockTimeoutMs'
  | 'lockWaitBudgetMs'
  | 'sessionIdleTimeoutMs'
  | 'showBlockerQueries'
  | 'statementTimeoutMs'
  | 'forceUnlock'
> {
  /** The caller's project directory, absolute: the knexfile and migrations-dir resolve from it, and the run works there. */
  workingDirectory: string;
  /** The project's knexfile, read for its migrations settings only (never the connection). */
  knexfile?: string;
  /** Which environment of the knexfile to read. */
  knexEnvironment: string;
  /** Overrides the knexfile's migrations directory; `migrations` when neither gives one. */
  migrationsDir?: string;
  /** Overrides the knexfile's tableName; `knex_migrations` when neither gives one. */
  migrationsTable?: string;
  /** Overrides the knexfile's schemaName; `public` when neither gives one. */
  schema?: string;
}

/** Checks how the inputs combine before anything connects; each mistake names its input and what is allowed. */
export function rollbackInputs(given: ParsedInputs<typeof inputs>, database: Database): RollbackInputs {
  const { mode, steps, to, all, migration, dryRun, forceUnlock, expectedPlan } = given;
  const selectors = [steps !== undefined && '"steps"', to !== undefined && '"to"', all && '"all: true"'].filter(
    Boolean,
  );
  if (selectors.length > 1) {
    throw new ConfigurationError(
      `Inputs ${selectors.join(' and ')} were both given; give at most one of steps, to, all (steps undoes batches, to undoes everything applied after a migration, all undoes every batch).`,
    );
  }
  const selecting = mode === 'rollback' || mode === 'plan' || mode === 'down';
  if (!selecting) {
    for (const [name, isGiven] of [
      ['steps', steps !== undefined],
      ['to', to !== undefined],
      ['all', all],
      ['migration', migration !== undefined],
      ['dry-run', dryRun],
      ['expected-plan', expectedPlan !== undefined],
    ] as const) {
      if (isGiven)
        throw new ConfigurationError(`Input "${name}" applies to mode plan, rollback or down, not to mode ${mode}.`);
    }
  }
  if (forceUnlock && mode !== 'unlock') {
    throw new ConfigurationError(`Input "force-unlock" is only allowed with mode: unlock (mode is ${mode}).`);
  }
  if (mode === 'down' && migration === undefined) {
    throw new ConfigurationError(
      `Mode down needs input "migration": the file name of the one applied migration to undo, e.g. 007_add_security_tables.ts.`,
    );
  }
  if (migration !== undefined && mode === 'rollback') {
    throw new ConfigurationError(
      `Input "migration" is for mode down (one migration); mode rollback takes steps, to or all.`,
    );
  }
  if (migration !== undefined && selectors.length > 0) {
    throw new ConfigurationError(
      `Input "migration" undoes one migration and cannot be combined with ${selectors.join(' or ')}.`,
    );
  }
  if (given.lockWaitBudgetMs < given.lockTimeoutMs) {
    throw new ConfigurationError(
      `Input "lock-wait-budget" (${formatDuration(given.lockWaitBudgetMs)}) is shorter than input "lock-timeout" (${formatDuration(given.lockTimeoutMs)}): the budget covers all attempts, each of which may wait up to lock-timeout. Give a lock-wait-budget of at least lock-timeout (default 10m), or a shorter lock-timeout.`,
    );
  }
  let request: PlanRequest;
  if (migration !== undefined) request = { kind: 'down', migration };
  else if (to !== undefined) request = { kind: 'to', to };
  else if (all) request = { kind: 'all' };
  else request = { kind: 'steps', steps: steps ?? 1 };

  return {
    databaseUrl: database.databaseUrl,
    security: database.security,
    workingDirectory: given.workingDirectory,
    knexfile: given.knexfile,
    knexEnvironment: given.knexEnvironment,
    migrationsDir: given.migrationsDir,
    migrationsTable: given.migrationsTable,
    schema: given.schema,
    mode,
    request,
    dryRun,
    allowDestructive: given.allowDestructive,
    allowNonAtomic: given.allowNonAtomic,
    expectedPlan,
    lockTimeoutMs: given.lockTimeoutMs,
    lockWaitBudgetMs: given.lockWaitBudgetMs,
    sessionIdleTimeoutMs: given.sessionIdleTimeoutMs,
    showBlockerQueries: given.showBlockerQueries,
    statementTimeoutMs: given.statementTimeoutMs,
    forceUnlock,
  };
}
