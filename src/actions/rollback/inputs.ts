import { ConfigurationError } from '../../common/errors.js';
import { connectionSecrets } from '../../common/secrets.js';
import type { PlanRequest } from '../../migrations/plan.js';
import type { RollbackOptions } from '../../migrations/rollback.js';
import { FINGERPRINT_PATTERN } from '../../migrations/fingerprint.js';
import { resolveWorkingDirectory } from '../../common/working-directory.js';
import { getBoolean, getDuration, getEnum, getInteger, getSecret, getString } from '../common/inputs.js';
import type { SecretRegistry } from '../common/run.js';
import { Inputs, MODES } from './constants.js';

/** The run's options as the inputs give them, and where to read the migrations settings from. */
export interface RollbackInputs extends Pick<
  RollbackOptions,
  | 'databaseUrl'
  | 'mode'
  | 'request'
  | 'dryRun'
  | 'allowDestructive'
  | 'allowNonAtomic'
  | 'expectedPlan'
  | 'lockTimeoutMs'
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

/** Reads and checks every input before anything connects; each mistake names its input and what is allowed. */
export function getInputs(secrets: SecretRegistry): RollbackInputs {
  // The secret first: masked before any other input can cause a log line.
  const databaseUrl = getSecret(Inputs.DatabaseUrl, { required: true });
  secrets.add(...connectionSecrets(databaseUrl));
  if (!/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    throw new ConfigurationError(
      `Input "${Inputs.DatabaseUrl}" must be a PostgreSQL URL such as postgres://user:password@host:5432/database.`,
    );
  }
  const mode = getEnum(Inputs.Mode, MODES, 'plan');
  const steps = getInteger(Inputs.Steps, { min: 1 });
  const to = getString(Inputs.To);
  const all = getBoolean(Inputs.All, false);
  const migration = getString(Inputs.Migration);
  const dryRun = getBoolean(Inputs.DryRun, false);
  const forceUnlock = getBoolean(Inputs.ForceUnlock, false);
  const expectedPlan = getString(Inputs.ExpectedPlan);

  const selectors = [
    steps !== undefined && `"${Inputs.Steps}"`,
    to !== undefined && `"${Inputs.To}"`,
    all && `"${Inputs.All}: true"`,
  ].filter(Boolean);
  if (selectors.length > 1) {
    throw new ConfigurationError(
      `Inputs ${selectors.join(' and ')} were both given; give at most one of steps, to, all (steps undoes batches, to undoes everything applied after a migration, all undoes every batch).`,
    );
  }
  const selecting = mode === 'rollback' || mode === 'plan' || mode === 'down';
  if (!selecting) {
    for (const [name, given] of [
      [Inputs.Steps, steps !== undefined],
      [Inputs.To, to !== undefined],
      [Inputs.All, all],
      [Inputs.Migration, migration !== undefined],
      [Inputs.DryRun, dryRun],
      [Inputs.ExpectedPlan, expectedPlan !== undefined],
    ] as const) {
      if (given)
        throw new ConfigurationError(`Input "${name}" applies to mode plan, rollback or down, not to mode ${mode}.`);
    }
  }
  if (forceUnlock && mode !== 'unlock') {
    throw new ConfigurationError(`Input "${Inputs.ForceUnlock}" is only allowed with mode: unlock (mode is ${mode}).`);
  }
  if (mode === 'down' && migration === undefined) {
    throw new ConfigurationError(
      `Mode down needs input "${Inputs.Migration}": the file name of the one applied migration to undo, e.g. 007_add_security_tables.ts.`,
    );
  }
  if (migration !== undefined && mode === 'rollback') {
    throw new ConfigurationError(
      `Input "${Inputs.Migration}" is for mode down (one migration); mode rollback takes steps, to or all.`,
    );
  }
  if (migration !== undefined && selectors.length > 0) {
    throw new ConfigurationError(
      `Input "${Inputs.Migration}" undoes one migration and cannot be combined with ${selectors.join(' or ')}.`,
    );
  }
  let request: PlanRequest;
  if (migration !== undefined) request = { kind: 'down', migration };
  else if (to !== undefined) request = { kind: 'to', to };
  else if (all) request = { kind: 'all' };
  else request = { kind: 'steps', steps: steps ?? 1 };

  if (expectedPlan !== undefined && !FINGERPRINT_PATTERN.test(expectedPlan)) {
    throw new ConfigurationError(
      `Input "${Inputs.ExpectedPlan}" is "${expectedPlan}": it must be the plan-fingerprint output of a plan run (64 hexadecimal characters).`,
    );
  }

  return {
    databaseUrl,
    workingDirectory: resolveWorkingDirectory(getString(Inputs.WorkingDirectory), undefined, Inputs.WorkingDirectory),
    knexfile: getString(Inputs.Knexfile),
    knexEnvironment: getString(Inputs.KnexEnvironment) ?? 'production',
    migrationsDir: getString(Inputs.MigrationsDir),
    migrationsTable: getString(Inputs.MigrationsTable),
    schema: getString(Inputs.Schema),
    mode,
    request,
    dryRun,
    allowDestructive: getBoolean(Inputs.AllowDestructive, false),
    allowNonAtomic: getBoolean(Inputs.AllowNonAtomic, false),
    expectedPlan,
    lockTimeoutMs: getDuration(Inputs.LockTimeout, '5s', { min: 1 }),
    statementTimeoutMs: getDuration(Inputs.StatementTimeout, '15m', { min: 1 }),
    forceUnlock,
  };
}
