import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { catalogSnapshot } from '../helpers/catalog.js';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { runBundle, type BundleRun } from '../helpers/run-bundle.js';
import { FileMigrationSource, listMigrationFiles } from '../../src/migrations/source.js';

// The statement guard and the dry run through the bundle, as the runner runs them, on a
// database with committed rows in several tables. After each refused run the catalogs, the
// row counts, the sequences, knex_migrations and Knex's lock row are exactly as before.
const UP = `
  await knex.raw("CREATE TABLE accounts (id serial PRIMARY KEY, name text)");
  await knex.raw("INSERT INTO accounts (name) SELECT 'a' || g FROM generate_series(1, 50) g");
  await knex.raw("CREATE TABLE h1 (id int)");
  await knex.raw("INSERT INTO h1 SELECT generate_series(1, 500)");`;

describe('the guard and the dry run through the rollback bundle', () => {
  let db: TestDatabase;
  let dir: string;
  let temp: string;
  beforeEach(async () => {
    db = await createDatabase('guard_bundle');
    temp = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-bundle-temp-'));
  });
  afterEach(async () => {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(temp, { recursive: true, force: true });
  });

  async function setUp(down: string, name = '001_down.cjs'): Promise<void> {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-bundle-'));
    fs.mkdirSync(path.join(dir, 'migrations'));
    fs.writeFileSync(
      path.join(dir, 'migrations', name),
      `exports.up = async (knex) => {${UP}\n};\nexports.down = async (knex) => {\n${down}\n};\n`,
    );
    const knex = db.knex();
    await knex.migrate.latest({
      migrationSource: new FileMigrationSource(listMigrationFiles([path.join(dir, 'migrations')])),
    });
    await knex.destroy();
  }

  function rollback(inputs: Record<string, string>): Promise<BundleRun> {
    return runBundle('rollback', {
      inputs: { 'database-url': db.url, 'migrations-dir': 'migrations', ...inputs },
      cwd: dir,
      env: { RUNNER_TEMP: temp },
    });
  }

  it.each([
    ['a dry run', { mode: 'plan', 'dry-run': 'true' }, /001_down.cjs sent "COMMIT"/],
    ['a run without allow-destructive', { mode: 'rollback' }, /Refused: .*"DROP TABLE h1"/s],
    ['a run with allow-destructive', { mode: 'rollback', 'allow-destructive': 'true' }, /001_down.cjs sent "COMMIT"/],
  ])(
    'refuses the COMMIT hack in %s: exit 1, the statement named, the catalogs as before',
    async (_label, inputs, message) => {
      await setUp(`await knex.raw('DROP TABLE h1'); await knex.raw('COMMIT'); await knex.raw('BEGIN');`);
      const before = await catalogSnapshot(db);
      const run = await rollback(inputs);
      expect(run.code).toBe(1);
      expect(run.errors[0]).toMatch(message);
      expect(await catalogSnapshot(db)).toEqual(before);
    },
  );

  it('fails a dry run without allow-destructive listing every statement, and passes with it, with row counts', async () => {
    await setUp(
      `await knex.raw("DELETE FROM accounts WHERE id <= 7"); await knex.raw('DROP TABLE h1'); await knex.raw('TRUNCATE accounts');`,
    );
    const before = await catalogSnapshot(db);
    const refused = await rollback({ mode: 'plan', 'dry-run': 'true' });
    expect(refused.code).toBe(1);
    expect(refused.errors[0]).toMatch(/^Dry run failed: the real run with these inputs would be refused/);
    expect(refused.errors[0]).toContain('- 001_down.cjs: "DROP TABLE h1"');
    expect(refused.errors[0]).toContain('- 001_down.cjs: "TRUNCATE accounts"');
    expect(refused.summary).toContain('re-dispatch with allow-destructive: true');
    expect(await catalogSnapshot(db)).toEqual(before);

    const passed = await rollback({ mode: 'plan', 'dry-run': 'true', 'allow-destructive': 'true' });
    expect(passed.code).toBe(0);
    expect(passed.outputs.sql).toMatch(/^DELETE FROM accounts WHERE id <= 7; -- destructive: .* -- 7 rows$/m);
    expect(passed.summary).toContain('| `DELETE FROM accounts WHERE id <= 7` — 7 rows | destructive |');
    expect(passed.outputs.sql).toMatch(/^TRUNCATE accounts; -- destructive: [^\n]*(?<!rows)$/m);
    expect(await catalogSnapshot(db)).toEqual(before);
  });

  it('logs a migration file name with a newline as text, never as a workflow command', async () => {
    await setUp(`await knex.raw('SELECT 1');`, '001_evil\n::warning::injected.cjs');
    const run = await rollback({ mode: 'plan', 'dry-run': 'true' });
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.filter((line) => line.startsWith('::warning::injected'))).toEqual([]);
    expect(run.stdout).toContain('001_evil\\x0a::warning::injected.cjs');
  });

  it('keeps a down() of 50,000 statements: summary under 1 MiB, sql under 512 KiB with a marker, all in sql-file', async () => {
    const statements = Array.from({ length: 50_000 }, (_, i) => `UPDATE accounts SET name = name WHERE id = ${i}`);
    await setUp(`await knex.raw(${JSON.stringify(statements.join(';\n'))});`);
    const run = await rollback({ mode: 'plan', 'dry-run': 'true', 'allow-destructive': 'true' });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(Buffer.byteLength(run.summary)).toBeLessThan(1024 * 1024);
    expect(run.summary).toMatch(/more statement\(s\) not shown .* in the record \(the sql-file output/);
    expect(Buffer.byteLength(run.outputs.sql)).toBeLessThanOrEqual(512 * 1024);
    expect(run.outputs.sql).toMatch(
      /-- … cut here: \d+ more statement\(s\) not shown .*complete list is in sql-file\.$/,
    );
    const file = fs.readFileSync(run.outputs['sql-file'], 'utf8');
    expect(path.dirname(run.outputs['sql-file'])).toBe(temp);
    for (const index of [0, 25_000, 49_999])
      expect(file).toContain(`UPDATE accounts SET name = name WHERE id = ${index};`);
    expect(file.split('\n').filter((line) => line.startsWith('UPDATE accounts'))).toHaveLength(50_000);
  }, 180_000);
});
