import { resolveWorkingDirectory } from '../../common/working-directory.js';
import { knexfileEnvSecrets, parseKnexfileEnv } from '../../migrations/knexfile-env.js';
import { custom, text, type InputSpec } from './inputs.js';

/**
 * The caller's project directory (`working-directory`, default `.`), absolute and checked to exist:
 * one meaning on every action that reads the project (src/common/working-directory.ts). A module of
 * its own so that only those actions' bundles carry it.
 */
export function workingDirectory(name = 'working-directory'): InputSpec<string> {
  return custom(name, (value, input) => resolveWorkingDirectory(value, undefined, input), { default: '.' });
}

/**
 * Where an action finds the caller's migrations: the project directory, its knexfile and the
 * overrides of the knexfile's settings, with one meaning on every action that reads them.
 */
export function projectInputs() {
  return {
    /** The caller's project directory, absolute: knexfile and migrations-dir resolve from it. */
    workingDirectory: workingDirectory(),
    /** The project's knexfile, read for its migrations settings only (never the connection). */
    knexfile: text('knexfile'),
    knexEnvironment: text('knex-environment', { default: 'production' }),
    /** NAME=value lines set, where unset, only while the knexfile loads; the values are masked. */
    knexfileEnv: custom('knexfile-env', (value, name) => parseKnexfileEnv(value ?? '', name), {
      derive: knexfileEnvSecrets,
    }),
    /** Overrides the knexfile's directory (relative to working-directory). */
    migrationsDir: text('migrations-dir'),
    /** Overrides the knexfile's tableName. */
    migrationsTable: text('migrations-table'),
    /** Overrides the knexfile's schemaName. */
    schema: text('schema'),
  };
}
