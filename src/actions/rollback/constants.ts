export enum Inputs {
  DatabaseUrl = 'database-url',
  WorkingDirectory = 'working-directory',
  Knexfile = 'knexfile',
  KnexEnvironment = 'knex-environment',
  MigrationsDir = 'migrations-dir',
  MigrationsTable = 'migrations-table',
  Schema = 'schema',
  Mode = 'mode',
  Steps = 'steps',
  To = 'to',
  All = 'all',
  Migration = 'migration',
  DryRun = 'dry-run',
  AllowDestructive = 'allow-destructive',
  AllowNonAtomic = 'allow-non-atomic',
  ExpectedPlan = 'expected-plan',
  LockTimeout = 'lock-timeout',
  StatementTimeout = 'statement-timeout',
  ForceUnlock = 'force-unlock',
}

export enum Outputs {
  Applied = 'applied',
  Pending = 'pending',
  Plan = 'plan',
  PlanFingerprint = 'plan-fingerprint',
  RolledBack = 'rolled-back',
  Sql = 'sql',
  Batches = 'batches',
}

export const MODES = ['status', 'plan', 'rollback', 'down', 'unlock'] as const;
