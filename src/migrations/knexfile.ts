import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigurationError, errorMessage } from '../common/errors.js';
import { registerTypeScriptLoader } from './typescript-loader.js';

/** The migrations settings this suite reads from a knexfile. The connection is never read. */
export interface KnexfileMigrationSettings {
  /** Absolute directories, resolved from the knexfile's directory as Knex's CLI does (it chdirs there). */
  directories?: string[];
  tableName?: string;
  schemaName?: string;
  loadExtensions?: string[];
  sortDirsSeparately?: boolean;
  /** Knex's migrations.disableTransactions: migrations without config.transaction then run outside a transaction. */
  disableTransactions?: boolean;
  /** Which environment the settings came from, or undefined when the knexfile has no environments. */
  environment?: string;
}

/**
 * Reads the `migrations` block of a project's knexfile the way `knex migrate:*` does:
 * a default export (or module.exports), possibly a function returning the config,
 * then `config[environment]` when that key exists, else the whole object.
 */
export async function readKnexfile(file: string, environment: string): Promise<KnexfileMigrationSettings> {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute) || !fs.statSync(absolute).isFile()) {
    throw new ConfigurationError(
      `Input "knexfile" is "${file}": no such file (looked at ${absolute}). Give the path of the project's knexfile, or leave it empty.`,
    );
  }
  let config: unknown;
  try {
    if (/\.(c|m)?ts$/.test(absolute)) registerTypeScriptLoader();
    let loaded = (await import(/* webpackIgnore: true */ pathToFileURL(absolute).href)) as Record<string, unknown>;
    // CommonJS arrives as { default: module.exports }; a transpiled ESM default may be nested once more.
    config = loaded.default ?? loaded;
    if (config && typeof config === 'object' && 'default' in config && !('migrations' in config)) {
      loaded = config;
      config = loaded.default ?? config;
    }
    if (typeof config === 'function') config = await (config as () => unknown)();
  } catch (error) {
    throw new ConfigurationError(
      `Input "knexfile": ${file} could not be loaded: ${errorMessage(error)}. Fix the knexfile or leave "knexfile" empty and give migrations-dir.`,
    );
  }
  if (!config || typeof config !== 'object') {
    throw new ConfigurationError(`Input "knexfile": ${file} exports no configuration object.`);
  }
  const all = config as Record<string, unknown>;
  const hasEnvironment = Object.prototype.hasOwnProperty.call(all, environment) && typeof all[environment] === 'object';
  const selected = (hasEnvironment ? all[environment] : all) as Record<string, unknown>;
  const migrations = (selected.migrations ?? {}) as Record<string, unknown>;
  if (typeof migrations !== 'object')
    throw new ConfigurationError(`Input "knexfile": ${file}'s migrations setting is not an object.`);
  if (migrations.migrationSource) {
    throw new ConfigurationError(
      `Input "knexfile": ${file} sets migrations.migrationSource, a custom source this action cannot reproduce. Give migrations-dir instead.`,
    );
  }
  const base = path.dirname(absolute);
  const settings: KnexfileMigrationSettings = { environment: hasEnvironment ? environment : undefined };
  if (migrations.directory !== undefined) {
    const list = Array.isArray(migrations.directory) ? migrations.directory : [migrations.directory];
    settings.directories = list.map((directory) => path.resolve(base, String(directory)));
  }
  if (typeof migrations.tableName === 'string') settings.tableName = migrations.tableName;
  if (typeof migrations.schemaName === 'string') settings.schemaName = migrations.schemaName;
  if (Array.isArray(migrations.loadExtensions)) settings.loadExtensions = migrations.loadExtensions.map(String);
  if (typeof migrations.sortDirsSeparately === 'boolean') settings.sortDirsSeparately = migrations.sortDirsSeparately;
  if (typeof migrations.disableTransactions === 'boolean')
    settings.disableTransactions = migrations.disableTransactions;
  return settings;
}

/** The settings a run uses: explicit inputs over the knexfile over Knex's defaults. */
export interface MigrationSettings {
  directories: string[];
  tableName: string;
  schemaName: string;
  loadExtensions?: string[];
  sortDirsSeparately: boolean;
  disableTransactions: boolean;
}

export interface MigrationSettingsRequest {
  knexfile?: string;
  knexEnvironment: string;
  migrationsDir?: string;
  migrationsTable?: string;
  schema?: string;
  /** Directory relative paths in inputs resolve from (the workspace). */
  cwd: string;
}

export async function resolveMigrationSettings(request: MigrationSettingsRequest): Promise<MigrationSettings> {
  const fromFile = request.knexfile
    ? await readKnexfile(path.resolve(request.cwd, request.knexfile), request.knexEnvironment)
    : {};
  return {
    directories: request.migrationsDir
      ? [path.resolve(request.cwd, request.migrationsDir)]
      : (fromFile.directories ?? [path.resolve(request.cwd, 'migrations')]),
    tableName: request.migrationsTable ?? fromFile.tableName ?? 'knex_migrations',
    schemaName: request.schema ?? fromFile.schemaName ?? 'public',
    loadExtensions: fromFile.loadExtensions,
    sortDirsSeparately: fromFile.sortDirsSeparately ?? false,
    disableTransactions: fromFile.disableTransactions ?? false,
  };
}
