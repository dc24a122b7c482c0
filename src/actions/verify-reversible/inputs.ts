import fs from 'node:fs';
import path from 'node:path';
import { ConfigurationError } from '../../common/errors.js';
import { databaseUrlInput, sslCaInput } from '../common/database.js';
import { choice, custom, lines } from '../common/inputs.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

function identifier(fallback: string) {
  return (value: string | undefined, name: string): string => {
    const given = value ?? fallback;
    if (!IDENTIFIER.test(given))
      throw new ConfigurationError(
        `Input "${name}" is "${given}": it must be a plain SQL identifier (letters, digits, _).`,
      );
    return given;
  };
}

/** The directory as the user wrote it (for messages) and its absolute path in the workspace. */
function migrationsDirectory(value: string | undefined, name: string): { input: string; path: string } {
  const input = value ?? 'migrations';
  const absolute = path.resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), input);
  if (!fs.existsSync(absolute) || !fs.statSync(absolute).isDirectory()) {
    throw new ConfigurationError(
      `Input "${name}" is "${input}", but ${absolute} is not a directory. Check out the repository first (actions/checkout) and give the directory relative to the workspace.`,
    );
  }
  return { input, path: absolute };
}

export const FAIL_ON = ['error', 'difference'] as const;

/** The verify-reversible action's inputs as action.yml declares them. */
export const inputs = {
  /** Server to create the scratch database on; the database it names is never written. */
  databaseUrl: databaseUrlInput({ required: true }),
  /** TLS for that server; never IAM: the scratch server is a disposable one. */
  sslCa: sslCaInput(),
  migrationsDir: custom('migrations-dir', migrationsDirectory, { default: 'migrations' }),
  /** Knex's migrations table; its bookkeeping is left out of the comparison. */
  migrationsTable: custom('migrations-table', identifier('knex_migrations'), { default: 'knex_migrations' }),
  /** The schema compared. */
  schema: custom('schema', identifier('public'), { default: 'public' }),
  /** Migrations to check (empty: all). */
  only: lines('only'),
  /** What fails the step: any difference, or only a step that throws. */
  failOn: choice('fail-on', FAIL_ON, 'difference'),
};
