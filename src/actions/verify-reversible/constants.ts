export enum Inputs {
  DatabaseUrl = 'database-url',
  MigrationsDir = 'migrations-dir',
  MigrationsTable = 'migrations-table',
  Schema = 'schema',
  Only = 'only',
  FailOn = 'fail-on',
}

export enum Outputs {
  Checked = 'checked',
  Irreversible = 'irreversible',
  Warnings = 'warnings',
  Report = 'report',
}

export const FAIL_ON = ['error', 'difference', 'warning'] as const;
export type FailOn = (typeof FAIL_ON)[number];
