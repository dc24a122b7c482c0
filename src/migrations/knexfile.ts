import fs from 'node:fs';
import path from 'node:path';
import { ConfigurationError, errorMessage } from '../common/errors.js';
import { escapeHtml } from '../common/html.js';
import { loadKnexfile } from './knexfile-load.js';

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
  /** The unset environment variables the knexfile needed to load, read as placeholders (knexfile-load.ts). */
  placeholders?: string[];
  /** The knexfile-env names set while it loaded (those the environment left unset). */
  fromInput?: string[];
}

/**
 * Reads the `migrations` block of a project's knexfile the way `knex migrate:*` does:
 * a default export (or module.exports), possibly a function returning the config,
 * then `config[environment]` when that key exists, else the whole object. A knexfile that throws
 * without the environment variables it validates is loaded again with placeholders (knexfile-load.ts).
 */
export async function readKnexfile(
  file: string,
  environment: string,
  variables: Readonly<Record<string, string>> = {},
): Promise<KnexfileMigrationSettings> {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute) || !fs.statSync(absolute).isFile()) {
    throw new ConfigurationError(
      `Input "knexfile" is "${file}": no such file (looked at ${absolute}). Give the path of the project's knexfile, or leave it empty.`,
    );
  }
  let loaded;
  try {
    loaded = await loadKnexfile(absolute, variables);
  } catch (error) {
    throw new ConfigurationError(
      `Input "knexfile": ${file} could not be loaded: ${errorMessage(error)}. Give the variables it validates in knexfile-env (NAME=value lines), fix the knexfile, or leave "knexfile" empty and give migrations-dir.`,
    );
  }
  const { config, placeholders, fromInput } = loaded;
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
  if (placeholders.length > 0) settings.placeholders = placeholders;
  if (fromInput.length > 0) settings.fromInput = fromInput;
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

/** Where one setting came from: an explicit input, the knexfile, or Knex's default. */
export type SettingSource = 'input' | 'knexfile' | 'default';

/** The settings a run uses: explicit inputs over the knexfile over Knex's defaults. */
export interface MigrationSettings {
  directories: string[];
  tableName: string;
  schemaName: string;
  loadExtensions?: string[];
  sortDirsSeparately: boolean;
  disableTransactions: boolean;
  /** The project directory (working-directory): relative inputs resolve from it; the summary shows paths relative to it. The process's directory when not given. */
  root?: string;
  /** The knexfile read, relative to root, and its environment (undefined when the knexfile has none). */
  knexfile?: { path: string; environment?: string; placeholders?: string[]; fromInput?: string[] };
  /** Where each setting came from, for the summary (unknown when the settings were built by hand). */
  sources?: Record<SettingName, SettingSource>;
}

export type SettingName =
  'directories' | 'tableName' | 'schemaName' | 'loadExtensions' | 'sortDirsSeparately' | 'disableTransactions';

export interface MigrationSettingsRequest {
  knexfile?: string;
  knexEnvironment: string;
  /** knexfile-env: variables set, where unset, only while the knexfile loads. */
  knexfileEnv?: Readonly<Record<string, string>>;
  migrationsDir?: string;
  migrationsTable?: string;
  schema?: string;
  /** The project directory (working-directory, absolute): the knexfile and migrations-dir resolve from it. */
  cwd: string;
}

/** The first of: the explicit input, the knexfile's value, the default; and which one it was. */
function pick<T>(input: T | undefined, fromFile: T | undefined, fallback: T): [T, SettingSource] {
  if (input !== undefined) return [input, 'input'];
  if (fromFile !== undefined) return [fromFile, 'knexfile'];
  return [fallback, 'default'];
}

export async function resolveMigrationSettings(request: MigrationSettingsRequest): Promise<MigrationSettings> {
  const knexfile = request.knexfile ? path.resolve(request.cwd, request.knexfile) : undefined;
  const variables = request.knexfileEnv ?? {};
  if (!knexfile && Object.keys(variables).length > 0) {
    throw new ConfigurationError(
      `Input "knexfile-env" was given without "knexfile": its variables are set only while a knexfile loads. Give knexfile, or leave knexfile-env empty.`,
    );
  }
  const fromFile = knexfile ? await readKnexfile(knexfile, request.knexEnvironment, variables) : {};
  // Knex's CLI runs from the knexfile's directory, so its default `./migrations` is there.
  const base = knexfile ? path.dirname(knexfile) : request.cwd;
  const [directories, directoriesFrom] = pick(
    request.migrationsDir ? [path.resolve(request.cwd, request.migrationsDir)] : undefined,
    fromFile.directories,
    [path.resolve(base, 'migrations')],
  );
  const [tableName, tableNameFrom] = pick(request.migrationsTable, fromFile.tableName, 'knex_migrations');
  const [schemaName, schemaNameFrom] = pick(request.schema, fromFile.schemaName, 'public');
  const [sortDirsSeparately, sortFrom] = pick(undefined, fromFile.sortDirsSeparately, false);
  const [disableTransactions, disableFrom] = pick(undefined, fromFile.disableTransactions, false);
  return {
    directories,
    tableName,
    schemaName,
    loadExtensions: fromFile.loadExtensions,
    sortDirsSeparately,
    disableTransactions,
    root: request.cwd,
    knexfile: knexfile
      ? {
          path: relativePath(request.cwd, knexfile),
          environment: fromFile.environment,
          placeholders: fromFile.placeholders,
          fromInput: fromFile.fromInput,
        }
      : undefined,
    sources: {
      directories: directoriesFrom,
      tableName: tableNameFrom,
      schemaName: schemaNameFrom,
      loadExtensions: fromFile.loadExtensions ? 'knexfile' : 'default',
      sortDirsSeparately: sortFrom,
      disableTransactions: disableFrom,
    },
  };
}

/** A path as the user would write it from the project directory. */
export function relativePath(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/') || '.';
}

/**
 * Fails, naming where the directory came from, when a migrations directory does not exist: the input
 * (relative to working-directory) or the knexfile's migrations.directory (relative to the knexfile).
 */
export function assertDirectoriesExist(settings: MigrationSettings, given: { migrationsDir?: string }): void {
  for (const directory of settings.directories) {
    if (fs.existsSync(directory) && fs.statSync(directory).isDirectory()) continue;
    if (settings.sources?.directories === 'input') {
      throw new ConfigurationError(
        `Input "migrations-dir" is "${given.migrationsDir}", but ${directory} is not a directory. Check out the repository first (actions/checkout) and give the directory relative to working-directory.`,
      );
    }
    const origin =
      settings.sources?.directories === 'knexfile'
        ? `The knexfile's migrations.directory (${settings.knexfile?.path})`
        : "Knex's default migrations directory";
    throw new ConfigurationError(
      `${origin} is ${directory}, which is not a directory. Check out the repository first (actions/checkout), or give migrations-dir relative to working-directory.`,
    );
  }
}

const INPUT_NAMES: Partial<Record<SettingName, string>> = {
  directories: 'migrations-dir',
  tableName: 'migrations-table',
  schemaName: 'schema',
};

/** One line per setting, saying its value and where it came from: the summary's "Migration settings". */
export function describeSettings(settings: MigrationSettings): Array<{ setting: string; value: string; from: string }> {
  const knexfile = knexfileLabel(settings);
  const from = (name: SettingName): string => {
    const source = settings.sources?.[name];
    if (!source) return '';
    if (source === 'input') return `input ${INPUT_NAMES[name] ?? name}`;
    return source === 'knexfile' ? knexfile : "Knex's default";
  };
  return [
    {
      setting: 'directory',
      value: settings.directories
        .map((directory) => relativePath(settings.root ?? process.cwd(), directory))
        .join(', '),
      from: from('directories'),
    },
    { setting: 'tableName', value: settings.tableName, from: from('tableName') },
    { setting: 'schemaName', value: settings.schemaName, from: from('schemaName') },
    {
      setting: 'loadExtensions',
      value: (settings.loadExtensions ?? ['.js', '.cjs', '.mjs', '.ts', '.mts', '.cts']).join(' '),
      from: from('loadExtensions'),
    },
    { setting: 'sortDirsSeparately', value: String(settings.sortDirsSeparately), from: from('sortDirsSeparately') },
    { setting: 'disableTransactions', value: String(settings.disableTransactions), from: from('disableTransactions') },
    ...environmentLines(settings),
  ];
}

function knexfileLabel({ knexfile }: MigrationSettings): string {
  if (!knexfile) return 'knexfile';
  return `knexfile ${knexfile.path}${knexfile.environment ? ` (${knexfile.environment})` : ''}`;
}

/** Names only, never values: which unset variables the knexfile read, and where their values came from. */
function environmentLines(settings: MigrationSettings): Array<{ setting: string; value: string; from: string }> {
  const lines = [];
  const given = settings.knexfile?.fromInput;
  if (given?.length) {
    lines.push({
      setting: 'unset environment variables',
      value: given.join(', '),
      from: `input knexfile-env, set only while ${knexfileLabel(settings)} loaded`,
    });
  }
  const names = settings.knexfile?.placeholders;
  if (names?.length) {
    lines.push({
      setting: 'unset environment variables',
      value: names.join(', '),
      from: `${knexfileLabel(settings)} threw without them, so it was loaded with placeholders for them; its connection settings are never used`,
    });
  }
  return lines;
}

/**
 * The summary's "Migration settings" table (rollback and verify-reversible): each setting, its value
 * and where it came from. Values sit in code spans and sources are escaped, so markup in a path shows as written.
 */
export function settingsTable(settings: MigrationSettings): string[] {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  return [
    '### Migration settings',
    '',
    '| Setting | Value | From |',
    '|---|---|---|',
    ...describeSettings(settings).map(
      (line) => `| ${line.setting} | \`${cell(line.value)}\` | ${escapeHtml(cell(line.from)) || '—'} |`,
    ),
    '',
  ];
}
