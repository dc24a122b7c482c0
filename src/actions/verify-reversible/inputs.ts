import { ConfigurationError } from '../../common/errors.js';
import { databaseUrlInput, sslCaInput } from '../common/database.js';
import { choice, custom, lines } from '../common/inputs.js';
import { projectInputs } from '../common/working-directory.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** An override of a knexfile setting: undefined when not given, so the knexfile (or Knex's default) decides. */
function identifier(value: string | undefined, name: string): string | undefined {
  if (value !== undefined && !IDENTIFIER.test(value))
    throw new ConfigurationError(
      `Input "${name}" is "${value}": it must be a plain SQL identifier (letters, digits, _).`,
    );
  return value;
}

export const FAIL_ON = ['error', 'difference', 'warning'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** The verify-reversible action's inputs as action.yml declares them. */
export const inputs = {
  /** Server to create the scratch database on; the database it names is never written. */
  databaseUrl: databaseUrlInput({ required: true }),
  /** TLS for that server; never IAM: the scratch server is a disposable one. */
  sslCa: sslCaInput(),
  ...projectInputs(),
  /** Overrides the knexfile's tableName; its bookkeeping is left out of the comparison. */
  migrationsTable: custom('migrations-table', identifier),
  /** The schema compared (`public`); not the knexfile's schemaName, which is where Knex keeps its migrations table. */
  schema: custom('schema', identifier),
  /** Migrations to check (empty: all). */
  only: lines('only'),
  /** What fails the step: only a step that throws, also any difference, or also any data warning. */
  failOn: choice('fail-on', FAIL_ON, 'difference'),
};
