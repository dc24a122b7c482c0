import { ConfigurationError } from '../../common/errors.js';
import type { PlanRequest } from '../../migrations/plan.js';
import type { PostgresConnection } from '../../postgres/connection.js';
import type { RollbackOptions } from '../../migrations/rollback.js';
import { FINGERPRINT_PATTERN } from '../../migrations/fingerprint.js';
import { getDatabaseInput } from '../common/database.js';
import { getBoolean, getDuration, getEnum, getInteger, getString } from '../common/inputs.js';
import type { SecretRegistry } from '../common/run.js';
import { Inputs, MODES } from './constants.js';

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
  | 'statementTimeoutMs'
  | 'forceUnlock'
> {
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
  /** The database named and checked (target, TLS, authentication), for the log. */
  connection: PostgresConnection;
}

/** Reads and checks every input before anything connects; each mistake names its input and what is allowed. */
export function getInputs(secrets: SecretRegistry): RollbackInputs {
  // The secret first: masked before any other input can cause a log line.
  const database = getDatabaseInput({ required: true, iam: true, addSecrets: (...values) => secrets.add(...values) });
  const { databaseUrl, connection } = database;
  // IAM tokens are made per connection, later: each is masked as it is made.
  const security = { ...database.security, onSecret: (token: string) => secrets.add(token) };
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
    security,
    connection,
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
