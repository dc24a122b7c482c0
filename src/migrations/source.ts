import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { ConfigurationError } from '../common/errors.js';
import { inDownFrame, newFrame } from './origin.js';
import type { MigrationTracker } from './sql-capture.js';
import { registerTypeScriptLoader, typeScriptFormat } from './typescript-loader.js';

/** The extensions loaded when the knexfile names none. Knex's default plus .mjs and .mts/.cts. */
export const DEFAULT_LOAD_EXTENSIONS = ['.js', '.cjs', '.mjs', '.ts', '.mts', '.cts'] as const;

/** One migration file on disk. */
export interface MigrationFile {
  /** The name Knex records in knex_migrations: the file name, without its directory. */
  name: string;
  /** Absolute path. */
  file: string;
}

/** What a migration file exports, as Knex sees it. */
export type MigrationModule = Knex.Migration & { config?: { transaction?: boolean } };

/**
 * Lists migration files as Knex's FsMigrations does: every directory, filtered by
 * extension, sorted by file name across directories (or per directory, in order,
 * when sortDirsSeparately is set).
 */
export function listMigrationFiles(
  directories: readonly string[],
  options: { loadExtensions?: readonly string[]; sortDirsSeparately?: boolean } = {},
): MigrationFile[] {
  const extensions = options.loadExtensions ?? DEFAULT_LOAD_EXTENSIONS;
  const perDirectory = directories.map((directory) => {
    if (!fs.existsSync(directory) || !fs.statSync(directory).isDirectory()) {
      throw new ConfigurationError(`Migrations directory "${directory}" does not exist or is not a directory.`);
    }
    const files = fs
      .readdirSync(directory)
      .filter((name) => extensions.includes(path.extname(name)) && !name.endsWith('.d.ts'))
      .map((name) => ({ name, file: path.resolve(directory, name) }));
    return options.sortDirsSeparately ? files.sort((a, b) => compare(a.name, b.name)) : files;
  });
  const all = perDirectory.flat();
  return options.sortDirsSeparately ? all : all.sort((a, b) => compare(a.name, b.name));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Loads one migration module. `.mjs` and ESM `.js` need import(); ncc would rewrite a
 * plain import() into its own loader that cannot load them, hence webpackIgnore.
 * TypeScript goes through the sucrase hooks registered here: when it compiles to CommonJS
 * it is require()d, as Knex's own importFile requires CommonJS, which skips the ESM
 * loader's per-file resolve and module job (about a third of the cost of loading it).
 */
export async function loadMigrationModule(file: string): Promise<MigrationModule> {
  const typescript = /\.(c|m)?ts$/.test(file);
  // Registered for JavaScript migrations too: the hooks record what each migration loads.
  const hooked = registerTypeScriptLoader() && typescript;
  let loaded: Record<string, unknown>;
  try {
    loaded =
      hooked && typeScriptFormat(file) === 'commonjs'
        ? (createRequire(file)(file) as Record<string, unknown>)
        : ((await import(/* webpackIgnore: true */ pathToFileURL(file).href)) as Record<string, unknown>);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigurationError(`Migration ${path.basename(file)} could not be loaded: ${reason}`);
  }
  // A CommonJS migration arrives as { default: module.exports }; an ESM one has named exports.
  const candidate =
    (typeof loaded.up === 'function' ? loaded : (loaded.default as Record<string, unknown> | undefined)) ?? {};
  if (typeof candidate.up !== 'function') {
    throw new ConfigurationError(`Migration ${path.basename(file)} exports no up() function.`);
  }
  return candidate as unknown as MigrationModule;
}

/** A Knex MigrationSource over files on disk, loading them through loadMigrationModule. */
export class FileMigrationSource implements Knex.MigrationSource<MigrationFile> {
  private readonly cache = new Map<string, Promise<MigrationModule>>();

  /**
   * With `disableTransactions` (the knexfile's migrations.disableTransactions), a migration that does
   * not set config.transaction itself gets `false`, as Knex's Migrator#_useTransaction decides: for
   * code that reads config.transaction instead of handing the setting to the Migrator.
   */
  constructor(
    private readonly files: readonly MigrationFile[],
    private readonly options: { disableTransactions?: boolean } = {},
  ) {}

  getMigrations(): Promise<MigrationFile[]> {
    return Promise.resolve([...this.files]);
  }

  getMigrationName(migration: MigrationFile): string {
    return migration.name;
  }

  getMigration(migration: MigrationFile): Promise<MigrationModule> {
    let loaded = this.cache.get(migration.file);
    if (!loaded) {
      loaded = loadMigrationModule(migration.file);
      if (this.options.disableTransactions) loaded = loaded.then(withoutDefaultTransaction);
      this.cache.set(migration.file, loaded);
    }
    return loaded;
  }
}

function withoutDefaultTransaction(module: MigrationModule): MigrationModule {
  if (typeof module.config?.transaction === 'boolean') return module;
  return { ...module, config: { ...module.config, transaction: false } };
}

/**
 * A FileMigrationSource that tells a MigrationTracker which migration's down() runs,
 * so the SQL captured can be attributed and an error can name its migration.
 */
export class TrackingMigrationSource extends FileMigrationSource {
  constructor(
    files: readonly MigrationFile[],
    private readonly tracker: MigrationTracker,
  ) {
    super(files);
  }

  override async getMigration(migration: MigrationFile): Promise<MigrationModule> {
    const loaded = await super.getMigration(migration);
    const tracker = this.tracker;
    const wrapped: MigrationModule = {
      up: loaded.up,
      config: loaded.config,
      async down(knex: Knex) {
        tracker.current = migration.name;
        tracker.started.push(migration.name);
        const started = Date.now();
        const frame = newFrame(migration.name);
        tracker.frames.push(frame);
        await inDownFrame(
          migration.name,
          async () => {
            await loaded.down?.(knex);
          },
          frame,
        );
        tracker.finished.push(migration.name);
        tracker.current = undefined;
        tracker.onFinish?.(migration.name, Date.now() - started);
      },
    };
    if (typeof loaded.down !== 'function') delete (wrapped as { down?: unknown }).down;
    return wrapped;
  }
}
