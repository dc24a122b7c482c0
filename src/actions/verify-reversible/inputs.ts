import { ConfigurationError } from '../../common/errors.js';
import { resolveWorkingDirectory } from '../../common/working-directory.js';
import { getEnum, getLines, getSecret, getString } from '../common/inputs.js';
import { FAIL_ON, Inputs, type FailOn } from './constants.js';

export interface VerifyReversibleInputs {
  /** Server to create the scratch database on; the database it names is never written. */
  databaseUrl: string;
  /** The caller's project directory, absolute: knexfile and migrations-dir resolve from it. */
  workingDirectory: string;
  /** The project's knexfile, read for its migrations settings only (never the connection). */
  knexfile?: string;
  knexEnvironment: string;
  /** Overrides the knexfile's directory (relative to working-directory). */
  migrationsDir?: string;
  /** Overrides the knexfile's tableName; its bookkeeping is left out of the comparison. */
  migrationsTable?: string;
  /** Overrides the knexfile's schemaName: the schema compared. */
  schema?: string;
  /** Migrations to check (empty: all). */
  only: string[];
  /** What fails the step: any difference, or only a step that throws. */
  failOn: FailOn;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

export function getInputs(): VerifyReversibleInputs {
  const databaseUrl = getSecret(Inputs.DatabaseUrl, { required: true });
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigurationError(`Input "${Inputs.DatabaseUrl}" must be a postgres:// or postgresql:// URL.`);
  }
  const migrationsTable = getString(Inputs.MigrationsTable);
  const schema = getString(Inputs.Schema);
  for (const [name, value] of [
    [Inputs.MigrationsTable, migrationsTable],
    [Inputs.Schema, schema],
  ] as const) {
    if (value !== undefined && !IDENTIFIER.test(value))
      throw new ConfigurationError(
        `Input "${name}" is "${value}": it must be a plain SQL identifier (letters, digits, _).`,
      );
  }
  return {
    databaseUrl,
    workingDirectory: resolveWorkingDirectory(getString(Inputs.WorkingDirectory), undefined, Inputs.WorkingDirectory),
    knexfile: getString(Inputs.Knexfile),
    knexEnvironment: getString(Inputs.KnexEnvironment) ?? 'production',
    migrationsDir: getString(Inputs.MigrationsDir),
    migrationsTable,
    schema,
    only: getLines(Inputs.Only),
    failOn: getEnum(Inputs.FailOn, FAIL_ON, 'difference'),
  };
}
