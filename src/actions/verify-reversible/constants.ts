export enum Inputs {
  DatabaseUrl = 'database-url',
  WorkingDirectory = 'working-directory',
  Knexfile = 'knexfile',
  KnexEnvironment = 'knex-environment',
  MigrationsDir = 'migrations-dir',
  MigrationsTable = 'migrations-table',
  Schema = 'schema',
  Only = 'only',
  FailOn = 'fail-on',
}

export enum Outputs {
  Checked = 'checked',
  Irreversible = 'irreversible',
  Report = 'report',
}

export const FAIL_ON = ['error', 'difference'] as const;
export type FailOn = (typeof FAIL_ON)[number];
