import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
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

  async function setUp(down: string, name = '001_down.cjs', extra = ''): Promise<void> {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-bundle-'));
    fs.mkdirSync(path.join(dir, 'migrations'));
    fs.writeFileSync(
      path.join(dir, 'migrations', name),
      `exports.up = async (knex) => {${UP}\n};\nexports.down = async (knex) => {\n${down}\n};\n${extra}`,
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

  describe('fails the dry run, as the pipeline runs it, on every other refusal of the real run', () => {
    let holder: pg.Client | undefined;
    afterEach(async () => {
      await holder?.end();
      holder = undefined;
    });

    /** A session that holds Knex's lock row FOR UPDATE, as a running `knex migrate` does. */
    async function holdLockRow(): Promise<void> {
      holder = new pg.Client({ connectionString: db.url, application_name: 'knex migrate (deploy)' });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM knex_migrations_lock FOR UPDATE');
    }

    async function refusedDryRun(inputs: Record<string, string>): Promise<BundleRun> {
      const before = await catalogSnapshot(db);
      const run = await rollback({ mode: 'plan', 'dry-run': 'true', 'allow-destructive': 'true', ...inputs });
      expect(run.code).toBe(1);
      expect(await catalogSnapshot(db)).toEqual(before);
      return run;
    }

    it('a plan that is not the expected one, naming expected-plan', async () => {
      await setUp(`await knex.raw('DROP TABLE h1');`);
      const run = await refusedDryRun({ mode: 'rollback', 'expected-plan': 'a'.repeat(64) });
      expect(run.errors[0]).toMatch(
        /^Input "expected-plan" is a{64}, but what this run would undo now has fingerprint [0-9a-f]{64}.*Nothing was changed/s,
      );
    });

    it('an applied migration whose file is missing', async () => {
      await setUp(`await knex.raw('DROP TABLE h1');`);
      fs.renameSync(path.join(dir, 'migrations', '001_down.cjs'), path.join(dir, 'migrations', '002_renamed.cjs'));
      const run = await refusedDryRun({});
      expect(run.errors[0]).toMatch(
        /^Cannot undo 001_down\.cjs: applied \(in knex_migrations\) but no file in .*Nothing was changed/,
      );
    });

    it("Knex's lock row held by another session past lock-wait-budget, naming the session and the input", async () => {
      await setUp(`await knex.raw('DROP TABLE h1');`);
      await holdLockRow();
      const run = await refusedDryRun({ 'lock-timeout': '50ms', 'lock-wait-budget': '400ms' });
      expect(run.errors[0]).toMatch(/^The dry run: the locks it needs were not free within lock-wait-budget \(400ms\)/);
      expect(run.errors[0]).toContain('application_name "knex migrate (deploy)"');
      expect(run.errors[0]).toContain('run again with a longer lock-wait-budget');
    });

    it('a stuck Knex lock (is_locked = 1, no session holds it), naming mode: unlock with force-unlock', async () => {
      await setUp(`await knex.raw('DROP TABLE h1');`);
      await db.query('UPDATE knex_migrations_lock SET is_locked = 1');
      const run = await refusedDryRun({});
      expect(run.errors[0]).toMatch(
        /is set, but no session holds it: a crashed or killed run left it behind.*run mode: unlock with force-unlock: true/s,
      );
    });

    it('a migration outside a transaction without allow-non-atomic, naming the input', async () => {
      await setUp(`await knex.raw('DROP TABLE h1');`, '001_down.cjs', 'exports.config = { transaction: false };\n');
      const run = await refusedDryRun({});
      expect(run.errors[0]).toMatch(/^Dry run failed: the real run with these inputs would be refused/);
      expect(run.errors[0]).toMatch(
        /allow-non-atomic is false, and 001_down\.cjs opts out of transactions .*with allow-non-atomic: true it runs in segments/,
      );
      expect(run.summary).toContain('with allow-non-atomic: true');
    });

    it('and the plan against production fails on a stuck lock, naming mode: unlock, but only warns while a migration holds it', async () => {
      await setUp(`await knex.raw('DROP TABLE h1');`);
      await db.query('UPDATE knex_migrations_lock SET is_locked = 1');
      const before = await catalogSnapshot(db);
      const stuck = await rollback({ mode: 'plan' });
      expect(stuck.code).toBe(1);
      expect(stuck.errors[0]).toMatch(
        /^Knex's migration lock \(public\.knex_migrations_lock\.is_locked = 1\) is set, but no session holds it.*the rollback would be refused on it after approval\. Nothing was changed\..*run mode: unlock with force-unlock: true/,
      );
      // The plan is still shown, for the reviewer who reads the failed job.
      expect(JSON.parse(stuck.outputs.plan)).toEqual([{ name: '001_down.cjs', batch: 1, transaction: true }]);
      expect(stuck.summary).toMatch(
        /### Lock checks\n\n- public\.knex_migrations_lock: is_locked = 1\n- No session holds/,
      );
      expect(await catalogSnapshot(db)).toEqual(before);

      await holdLockRow();
      const held = await rollback({ mode: 'plan' });
      expect(held.errors).toEqual([]);
      expect(held.code).toBe(0);
      expect(held.stdout).toMatch(
        /^::warning::Knex's migration lock \(public\.knex_migrations_lock\.is_locked = 1\) is held by pid \d+, application_name "knex migrate \(deploy\)".*a migration is running/m,
      );
      expect(held.outputs['plan-fingerprint']).toMatch(/^[0-9a-f]{64}$/);
      expect(await catalogSnapshot(db)).toEqual(before);
    });
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
