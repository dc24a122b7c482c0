import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  assertDirectoriesExist,
  describeSettings,
  readKnexfile,
  resolveMigrationSettings,
} from '../../src/migrations/knexfile.js';
import { buildSegments, selectMigrations, type AppliedMigration } from '../../src/migrations/plan.js';
import { resumeInputs } from '../../src/migrations/rollback.js';
import { rollbackOptions } from './helpers.js';

describe('reading the knexfile as the Knex CLI does', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'knexfile-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("takes the environment, resolves directories from the knexfile's directory, and never reads the connection", async () => {
    const file = path.join(dir, 'knexfile.cjs');
    fs.writeFileSync(
      file,
      `module.exports = {
        production: { client: 'pg', get connection() { throw new Error('the connection was read'); },
          migrations: { directory: ['./db/a', 'db/b'], tableName: 'schema_history', schemaName: 'app', loadExtensions: ['.ts'], disableTransactions: true } },
        development: { migrations: { directory: './dev' } },
      };`,
    );
    expect(await readKnexfile(file, 'production')).toEqual({
      environment: 'production',
      directories: [path.join(dir, 'db/a'), path.join(dir, 'db/b')],
      tableName: 'schema_history',
      schemaName: 'app',
      loadExtensions: ['.ts'],
      disableTransactions: true,
    });
  });

  it('uses the whole export when it has no such environment, and awaits an exported function', async () => {
    const file = path.join(dir, 'knexfile.mjs');
    fs.writeFileSync(
      file,
      `export default async () => ({ client: 'pg', migrations: { directory: 'm', tableName: 't' } });`,
    );
    expect(await readKnexfile(file, 'production')).toEqual({
      environment: undefined,
      directories: [path.join(dir, 'm')],
      tableName: 't',
    });
  });

  it("lets explicit inputs override the knexfile, and falls back to Knex's defaults", async () => {
    const file = path.join(dir, 'knexfile.cjs');
    fs.writeFileSync(
      file,
      `module.exports = { production: { migrations: { directory: './db', tableName: 'from_file', schemaName: 'file_schema' } } };`,
    );
    const settings = await resolveMigrationSettings({
      knexfile: 'knexfile.cjs',
      knexEnvironment: 'production',
      migrationsTable: 'from_input',
      cwd: dir,
    });
    expect(settings).toMatchObject({
      directories: [path.join(dir, 'db')],
      tableName: 'from_input',
      schemaName: 'file_schema',
    });
    expect(await resolveMigrationSettings({ knexEnvironment: 'production', cwd: dir })).toMatchObject({
      directories: [path.join(dir, 'migrations')],
      tableName: 'knex_migrations',
      schemaName: 'public',
    });
  });

  it('awaits an exported promise, and loads a knexfile whose connection reads unset variables', async () => {
    const file = path.join(dir, 'knexfile.cjs');
    fs.writeFileSync(
      file,
      `module.exports = Promise.resolve({ production: { client: 'pg',
         connection: { host: process.env.DB_HOST_NEVER_SET, port: Number(process.env.DB_PORT_NEVER_SET) },
         migrations: { directory: 'db', sortDirsSeparately: true } } });`,
    );
    expect(await readKnexfile(file, 'production')).toEqual({
      environment: 'production',
      directories: [path.join(dir, 'db')],
      sortDirsSeparately: true,
    });
  });

  it("says where each setting came from, and defaults the directory to the knexfile's own migrations/", async () => {
    fs.mkdirSync(path.join(dir, 'services/api'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'services/api/knexfile.cjs'),
      `module.exports = { production: { migrations: { tableName: 'schema_migrations', disableTransactions: true } } };`,
    );
    const settings = await resolveMigrationSettings({
      knexfile: 'services/api/knexfile.cjs',
      knexEnvironment: 'production',
      schema: 'app',
      cwd: dir,
    });
    expect(settings.directories).toEqual([path.join(dir, 'services/api/migrations')]);
    expect(describeSettings(settings)).toEqual([
      { setting: 'directory', value: 'services/api/migrations', from: "Knex's default" },
      { setting: 'tableName', value: 'schema_migrations', from: 'knexfile services/api/knexfile.cjs (production)' },
      { setting: 'schemaName', value: 'app', from: 'input schema' },
      { setting: 'loadExtensions', value: '.js .cjs .mjs .ts .mts .cts', from: "Knex's default" },
      { setting: 'sortDirsSeparately', value: 'false', from: "Knex's default" },
      { setting: 'disableTransactions', value: 'true', from: 'knexfile services/api/knexfile.cjs (production)' },
    ]);
    expect(() => assertDirectoriesExist(settings, {})).toThrow(
      /^Knex's default migrations directory is .*services\/api\/migrations, which is not a directory/,
    );
  });

  it('refuses a knexfile with a custom migrationSource, naming the input', async () => {
    const file = path.join(dir, 'knexfile.cjs');
    fs.writeFileSync(file, `module.exports = { migrations: { migrationSource: {} } };`);
    await expect(readKnexfile(file, 'production')).rejects.toThrow(
      /Input "knexfile": .* sets migrations.migrationSource/,
    );
  });

  it('loads a knexfile that throws without its variables with placeholders, and restores process.env either way', async () => {
    const real = process.env;
    const file = path.join(dir, 'knexfile.cjs');
    fs.writeFileSync(
      file,
      `if (!process.env.KNEXFILE_TEST_HOST) throw new Error('KNEXFILE_TEST_HOST is not set');
       module.exports = { migrations: { directory: 'db', tableName: process.env.KNEXFILE_TEST_TABLE ? 'from_env' : 't' } };`,
    );
    expect(await readKnexfile(file, 'production')).toEqual({
      environment: undefined,
      directories: [path.join(dir, 'db')],
      tableName: 'from_env',
      placeholders: ['KNEXFILE_TEST_HOST', 'KNEXFILE_TEST_TABLE'],
    });
    expect(process.env).toBe(real);
    expect(process.env.KNEXFILE_TEST_HOST).toBeUndefined();

    // Throws with the placeholders too: the first error stands, and process.env is back.
    const broken = path.join(dir, 'broken.cjs');
    fs.writeFileSync(broken, `throw new Error('broken while ' + (process.env.KNEXFILE_TEST_HOST ? 'set' : 'unset'));`);
    await expect(readKnexfile(broken, 'production')).rejects.toThrow(
      /broken.cjs could not be loaded: broken while unset/,
    );
    expect(process.env).toBe(real);
    expect(process.env.KNEXFILE_TEST_HOST).toBeUndefined();
  });
});

describe('choosing what to undo', () => {
  const row = (id: number, name: string, batch: number): AppliedMigration => ({
    id,
    name,
    batch,
    migrationTime: '2025-01-01T00:00:00.000Z',
  });
  // 003 was applied after 004 (a hotfix merged late): application order differs from file-name order.
  const applied = [row(1, '001_a.js', 1), row(2, '002_b.js', 1), row(3, '004_d.js', 2), row(4, '003_c.js', 3)];
  const files = applied.map((r) => r.name);

  it('undoes `to` in the order applied and warns that it differs from file-name order', () => {
    const selection = selectMigrations(applied, files, { kind: 'to', to: '002_b.js' });
    expect(selection.rows.map((r) => r.name)).toEqual(['003_c.js', '004_d.js']);
    expect(selection.warnings.join(' ')).toMatch(
      /differs from their file-name order; they are undone newest-applied first: 003_c.js, 004_d.js/,
    );
  });

  it('undoes batches newest first, by id inside a batch, as Knex does', () => {
    expect(selectMigrations(applied, files, { kind: 'steps', steps: 2 }).rows.map((r) => r.name)).toEqual([
      '003_c.js',
      '004_d.js',
    ]);
    expect(selectMigrations(applied, files, { kind: 'all' }).rows.map((r) => r.name)).toEqual([
      '003_c.js',
      '004_d.js',
      '002_b.js',
      '001_a.js',
    ]);
    expect(selectMigrations(applied, files, { kind: 'steps', steps: 9 }).rows).toHaveLength(4);
  });

  it('segments a plan: transactional stretches together, each non-transactional migration alone', () => {
    const planned = (name: string, transaction: boolean) => ({ ...row(0, name, 1), transaction });
    expect(
      buildSegments([
        planned('a', true),
        planned('b', true),
        planned('c', false),
        planned('d', false),
        planned('e', true),
      ]),
    ).toEqual([
      { transactional: true, migrations: ['a', 'b'] },
      { transactional: false, migrations: ['c'] },
      { transactional: false, migrations: ['d'] },
      { transactional: true, migrations: ['e'] },
    ]);
  });

  it('gives resume inputs that undo exactly what remains', () => {
    const options = rollbackOptions('postgres://unused', { allowNonAtomic: true });
    expect(resumeInputs(['003_c.js', '004_d.js'], applied, options)).toBe(
      'mode: rollback, to: "002_b.js", allow-non-atomic: true',
    );
    expect(resumeInputs(['003_c.js', '004_d.js', '002_b.js', '001_a.js'], applied, options)).toBe(
      'mode: rollback, all: true, allow-non-atomic: true',
    );
    expect(resumeInputs(['004_d.js'], applied, options)).toBe(
      'mode: down, migration: "004_d.js", allow-non-atomic: true',
    );
  });
});
