import fs from 'node:fs';
import path from 'node:path';
import { ConfigurationError } from '../../common/errors.js';
import type { PostgresConnection } from '../../postgres/connection.js';
import type { ScratchSecurity } from '../../reversibility/scratch-database.js';
import { getDatabaseInput } from '../common/database.js';
import { getEnum, getLines, getString } from '../common/inputs.js';
import { FAIL_ON, Inputs, type FailOn } from './constants.js';

export interface VerifyReversibleInputs {
  /** Server to create the scratch database on; the database it names is never written. */
  databaseUrl: string;
  /** ssl-ca for that server (never IAM: the scratch server is a disposable one). */
  security: ScratchSecurity;
  /** The server parsed and checked, for the log. */
  connection: PostgresConnection;
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

export function getInputs(addSecrets: (...secrets: string[]) => void): VerifyReversibleInputs {
  const { databaseUrl, security, connection } = getDatabaseInput({ required: true, iam: false, addSecrets });
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
    security,
    connection,
    migrationsDir,
    migrationsDirInput,
    migrationsTable,
    schema,
    only: getLines(Inputs.Only),
    failOn: getEnum(Inputs.FailOn, FAIL_ON, 'difference'),
  };
}
