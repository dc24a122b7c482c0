import fs from 'node:fs';
import path from 'node:path';
import { ConfigurationError } from '../../common/errors.js';
import { getEnum, getLines, getSecret, getString } from '../common/inputs.js';
import { FAIL_ON, Inputs, type FailOn } from './constants.js';

export interface VerifyReversibleInputs {
  /** Server to create the scratch database on; the database it names is never written. */
  databaseUrl: string;
  /** Absolute path of the migrations directory. */
  migrationsDir: string;
  /** The directory as the user wrote it, for messages and the summary. */
  migrationsDirInput: string;
  /** Knex's migrations table; its bookkeeping is left out of the comparison. */
  migrationsTable: string;
  /** The schema compared. */
  schema: string;
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
  const migrationsDirInput = getString(Inputs.MigrationsDir) ?? 'migrations';
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const migrationsDir = path.resolve(workspace, migrationsDirInput);
  if (!fs.existsSync(migrationsDir) || !fs.statSync(migrationsDir).isDirectory()) {
    throw new ConfigurationError(
      `Input "${Inputs.MigrationsDir}" is "${migrationsDirInput}", but ${migrationsDir} is not a directory. Check out the repository first (actions/checkout) and give the directory relative to the workspace.`,
    );
  }
  const migrationsTable = getString(Inputs.MigrationsTable) ?? 'knex_migrations';
  const schema = getString(Inputs.Schema) ?? 'public';
  for (const [name, value] of [
    [Inputs.MigrationsTable, migrationsTable],
    [Inputs.Schema, schema],
  ] as const) {
    if (!IDENTIFIER.test(value))
      throw new ConfigurationError(
        `Input "${name}" is "${value}": it must be a plain SQL identifier (letters, digits, _).`,
      );
  }
  return {
    databaseUrl,
    migrationsDir,
    migrationsDirInput,
    migrationsTable,
    schema,
    only: getLines(Inputs.Only),
    failOn: getEnum(Inputs.FailOn, FAIL_ON, 'difference'),
  };
}
