import { formatDuration, parseDuration } from '../../common/duration.js';
import { ConfigurationError } from '../../common/errors.js';
import type { PlanRequest } from '../../migrations/plan.js';
import type { RollbackOptions } from '../../migrations/rollback.js';
import { FINGERPRINT_PATTERN } from '../../migrations/fingerprint.js';
import { MODES, PRESERVE_MODES } from '../../migrations/run-types.js';
import path from 'node:path';
import { readDestroyingStatements } from '../../preserve/estimate.js';
import { parseSize } from '../../preserve/size.js';
import type { DestroyingStatement, PreserveOptions } from '../../preserve/types.js';
import { awsRegionInput, databaseUrlInput, iamAuthInput, sslCaInput, type Database } from '../common/database.js';
import { choice, custom, duration, flag, integer, text, type ParsedInputs } from '../common/inputs.js';
import { projectInputs } from '../common/working-directory.js';

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
  ...projectInputs(),
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
  lockTimeoutMs: duration('lock-timeout', '200ms', {
    ...POSTGRES_TIMEOUT,
    why: `${POSTGRES_TIMEOUT.why}; the longest lock wait of one attempt`,
  }),
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
  preserveData: flag('preserve-data', true),
  preserveDataMax: custom(
    'preserve-data-max',
    (value, name) => {
      const bytes = parseSize(value ?? '256MB');
      if (bytes === undefined || bytes <= 0) {
        throw new ConfigurationError(
          `Input "${name}" is "${value}": it must be a size such as 100kB, 256MB or 2GB (units B, kB, MB, GB, TB; 1 kB = 1024 bytes).`,
        );
      }
      return bytes;
    },
    { default: '256MB' },
  ),
  preserveSchema: custom(
    'preserve-schema',
    (value, name) => {
      const schema = value ?? 'rollback_preserved';
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
        throw new ConfigurationError(
          `Input "${name}" is "${schema}": it must be a lower-case PostgreSQL name (letters, digits, underscores; at most 63), such as rollback_preserved.`,
        );
      }
      return schema;
    },
    { default: 'rollback_preserved' },
  ),
  preserveId: custom('preserve-id', (value, name) => {
    if (value !== undefined && !/^rb\d{12}_[0-9a-f]{6}$/.test(value)) {
      throw new ConfigurationError(
        `Input "${name}" is "${value}": it must be the preserve-id output of a rollback, such as rb202611290315_a1b2c3.`,
      );
    }
    return value;
  }),
  /** A dry run's destroying statements (a path), for estimate-data, rollback and down: read and checked in rollbackInputs, where the mode is known. */
  preserveStatementsFile: text('preserve-statements-file'),
  olderThanMs: custom('older-than', (value, name) => {
    if (value === undefined) return undefined;
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) {
      throw new ConfigurationError(
        `Input "${name}" is "${value}": it must be an age such as 30d, 12h or 90m (units ms, s, m, h, d).`,
      );
    }
    return ms;
  }),
};

/** A duration input that must be at least `min` ms: a negative or zero one is a mistake, named as such. */
function positiveDuration(name: string, fallback: string, what: string, min = 1) {
  return custom(
    name,
    (value, input) => {
      const given = value ?? fallback;
      const ms = parseDuration(given);
      if (ms === undefined || ms < min || ms > POSTGRES_TIMEOUT.max) {
        throw new ConfigurationError(
          `Input "${input}" is "${given}": it must be a duration${min >= 1000 ? ` of at least ${formatDuration(min)}` : ' above zero'} and at most ${formatDuration(POSTGRES_TIMEOUT.max)} (${what}), such as ${fallback}, 30s, 5m or 1h30m (units ms, s, m, h, d).`,
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
  /** knexfile-env: variables set, where unset, only while the knexfile loads. */
  knexfileEnv: Record<string, string>;
  /** Overrides the knexfile's migrations directory; `migrations` when neither gives one. */
  migrationsDir?: string;
  /** Overrides the knexfile's tableName; `knex_migrations` when neither gives one. */
  migrationsTable?: string;
  /** Overrides the knexfile's schemaName; `public` when neither gives one. */
  schema?: string;
  /** preserve-data, preserve-data-max, preserve-schema, preserve-id, older-than. */
  preserve: PreserveOptions;
  /** A dry run's destroying statements, read from preserve-statements-file: estimate-data sizes them, rollback and down check the limit with them first. */
  destroyingStatements?: DestroyingStatement[];
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
  checkPreserveInputs(given);
  if (!selecting) {
    for (const [name, isGiven] of [
      ['steps', steps !== undefined],
      ['to', to !== undefined],
      ['all', all],
      ['migration', migration !== undefined],
      ['dry-run', dryRun && mode !== 'restore-data' && mode !== 'prune-data'],
      ['expected-plan', expectedPlan !== undefined],
    ] as const) {
      if (isGiven)
        throw new ConfigurationError(
          `Input "${name}" applies to mode plan, rollback or down${name === 'dry-run' ? ' (and restore-data, prune-data)' : ''}, not to mode ${mode}.`,
        );
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
  checkLockBudget(given);
  const request = planRequest(given);
  const destroyingStatements = destroyingStatementsOf(given);

  return {
    databaseUrl: database.databaseUrl,
    security: database.security,
    workingDirectory: given.workingDirectory,
    knexfile: given.knexfile,
    knexEnvironment: given.knexEnvironment,
    knexfileEnv: given.knexfileEnv,
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
    preserve: {
      enabled: given.preserveData,
      maxBytes: given.preserveDataMax,
      schema: given.preserveSchema,
      ...(given.preserveId ? { id: given.preserveId } : {}),
      ...(given.olderThanMs !== undefined ? { olderThanMs: given.olderThanMs } : {}),
    },
    ...(destroyingStatements ? { destroyingStatements } : {}),
  };
}

/** The dry run's file, read and checked before anything connects. */
function destroyingStatementsOf(given: ParsedInputs<typeof inputs>): DestroyingStatement[] | undefined {
  if (given.preserveStatementsFile === undefined) return undefined;
  return readDestroyingStatements(path.resolve(given.preserveStatementsFile), 'preserve-statements-file');
}

/** The budget covers every attempt, and each attempt may wait up to lock-timeout. */
function checkLockBudget(given: ParsedInputs<typeof inputs>): void {
  if (given.lockWaitBudgetMs < given.lockTimeoutMs) {
    throw new ConfigurationError(
      `Input "lock-wait-budget" (${formatDuration(given.lockWaitBudgetMs)}) is shorter than input "lock-timeout" (${formatDuration(given.lockTimeoutMs)}): the budget covers all attempts, each of which may wait up to lock-timeout. Give a lock-wait-budget of at least lock-timeout (default 10m), or a shorter lock-timeout.`,
    );
  }
}

/** What to undo, from the one selector given (one batch when none is). */
function planRequest({ migration, to, all, steps }: ParsedInputs<typeof inputs>): PlanRequest {
  if (migration !== undefined) return { kind: 'down', migration };
  if (to !== undefined) return { kind: 'to', to };
  if (all) return { kind: 'all' };
  return { kind: 'steps', steps: steps ?? 1 };
}

/** preserve-id belongs to restore-data, older-than to prune-data, preserve-statements-file to estimate-data (which needs it), rollback and down. */
function checkPreserveInputs(given: ParsedInputs<typeof inputs>): void {
  const { mode } = given;
  if (mode === 'restore-data' && given.preserveId === undefined)
    throw new ConfigurationError(
      'Mode restore-data needs input "preserve-id": the preserve-id output of the rollback whose data to put back.',
    );
  if (mode === 'prune-data' && given.olderThanMs === undefined)
    throw new ConfigurationError(
      'Mode prune-data needs input "older-than": an age such as 30d; older copies are dropped.',
    );
  if (given.preserveId !== undefined && mode !== 'restore-data')
    throw new ConfigurationError(`Input "preserve-id" is only allowed with mode: restore-data (mode is ${mode}).`);
  if (given.olderThanMs !== undefined && mode !== 'prune-data')
    throw new ConfigurationError(`Input "older-than" is only allowed with mode: prune-data (mode is ${mode}).`);
  if (mode === 'estimate-data' && given.preserveStatementsFile === undefined)
    throw new ConfigurationError(
      'Mode estimate-data needs input "preserve-statements-file": the preserve-statements-file output of a dry run (mode plan, dry-run: true) of the plan, on a database with the same schema.',
    );
  if (mode === 'estimate-data' && !given.preserveData)
    throw new ConfigurationError(
      'Mode estimate-data sizes what preserve-data keeps, and preserve-data is false: with it off nothing is kept, so there is nothing to estimate. Skip the step, or set preserve-data: true.',
    );
  if (given.preserveStatementsFile !== undefined && !PRESERVE_MODES.includes(mode))
    throw new ConfigurationError(
      `Input "preserve-statements-file" is only allowed with mode: ${PRESERVE_MODES.slice(0, -1).join(', ')} or ${PRESERVE_MODES.at(-1)} (mode is ${mode}).`,
    );
  if (given.preserveStatementsFile !== undefined && !given.preserveData)
    throw new ConfigurationError(
      'Input "preserve-statements-file" sizes what preserve-data keeps against preserve-data-max, and preserve-data is false: leave it out, or set preserve-data: true.',
    );
}
