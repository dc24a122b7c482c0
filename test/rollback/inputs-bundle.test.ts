import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { catalogSnapshot } from '../helpers/catalog.js';
import { runBundle, type BundleRun } from '../helpers/run-bundle.js';
import { FileMigrationSource, listMigrationFiles } from '../../src/migrations/source.js';

// Every mistake a new user makes gets a clear error naming the input, before anything changes,
// and the process ends: through the bundle, as the runner runs it.
describe('the rollback bundle on mistakes', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createDatabase('inputs_bundle');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-bundle-'));
    fs.mkdirSync(path.join(dir, 'migrations'));
    fs.writeFileSync(
      path.join(dir, 'migrations', '001_t1.cjs'),
      "exports.up = (knex) => knex.raw('CREATE TABLE t1 (id int)');\nexports.down = (knex) => knex.raw('DROP TABLE t1');\n",
    );
    const knex = db.knex();
    await knex.migrate.latest({
      migrationSource: new FileMigrationSource(listMigrationFiles([path.join(dir, 'migrations')])),
    });
    await knex.raw('CREATE TABLE app_migrations_archive (id int)');
    await knex.destroy();
  });
  afterAll(async () => {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function rollback(inputs: Record<string, string>, url = db.url): Promise<BundleRun> {
    return runBundle('rollback', {
      inputs: { 'database-url': url, 'migrations-dir': 'migrations', ...inputs },
      cwd: dir,
      timeoutMs: 60_000,
    });
  }

  it.each([
    [
      'a wrong table',
      { 'migrations-table': 'knex_migration' },
      /^Input "migrations-table" \(or the knexfile's tableName\): table public.knex_migration does not exist/,
    ],
    [
      'a wrong schema',
      { schema: 'pubic' },
      /^Input "schema" \(or the knexfile's schemaName\): schema pubic does not exist/,
    ],
  ])("refuses %s in mode rollback, suggesting the tables that look like Knex's", async (_label, inputs, message) => {
    const before = await catalogSnapshot(db);
    const run = await rollback({ mode: 'rollback', 'allow-destructive': 'true', ...inputs });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toMatch(message);
    expect(run.errors[0]).toContain(
      "Tables here that look like Knex's: public.app_migrations_archive, public.knex_migrations.",
    );
    expect(await catalogSnapshot(db)).toEqual(before);
  });

  it('says in mode status that no migration has run when the table does not exist', async () => {
    const run = await rollback({ mode: 'status', 'migrations-table': 'never_ran' });
    expect(run.code).toBe(0);
    expect(run.summary).toContain('No migration has run on this database: public.never_ran does not exist');
  });

  it('refuses a read-only session, naming database-url and the secret to use, and changes nothing', async () => {
    const before = await catalogSnapshot(db);
    const url = new URL(db.url);
    url.searchParams.set('options', '-c default_transaction_read_only=on');
    const run = await rollback({ mode: 'rollback', 'allow-destructive': 'true' }, url.toString());
    expect(run.code).toBe(1);
    expect(run.errors[0]).toMatch(/^Input "database-url": the session is read-only/);
    expect(run.errors[0]).toContain("the gate environment's DATABASE_URL secret");
    // Set on a failure too, and without the URL's user-info or parameters.
    expect(run.outputs.database).toBe(`${url.hostname}:${url.port}${url.pathname}`);
    expect(await catalogSnapshot(db)).toEqual(before);
  });

  it.each([
    ['restore-data', { 'preserve-id': 'rb202611290315_a1b2c3' }],
    ['prune-data', { 'older-than': '30d' }],
  ])('refuses a read-only session in mode %s too, which writes the preserved data', async (mode, inputs) => {
    const url = new URL(db.url);
    url.searchParams.set('options', '-c default_transaction_read_only=on');
    const run = await rollback({ mode, ...inputs }, url.toString());
    expect(run.code).toBe(1);
    expect(run.errors[0]).toMatch(
      new RegExp(`^Input "database-url": the session is read-only.*mode ${mode} must write`),
    );
  });

  it('refuses a SELECT-only role (no default_transaction_read_only) as a read-only credential, and changes nothing', async () => {
    const role = `select_only_${crypto.randomBytes(4).toString('hex')}`;
    const password = crypto.randomBytes(12).toString('hex');
    await db.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    try {
      await db.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
      await db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
      const url = new URL(db.url);
      url.username = role;
      url.password = password;
      const before = await catalogSnapshot(db);
      const run = await rollback({ mode: 'rollback', 'allow-destructive': 'true' }, url.toString());
      expect(run.code).toBe(1);
      expect(run.errors[0]).toBe(
        `Input "database-url": the role "${role}" may not UPDATE public.knex_migrations_lock: it is a read-only credential (SELECT only), and mode rollback must write (the migration lock, Knex's lock row, the downs, or the preserved copies). Give a credential that may write to the primary: in the pipeline, the gate environment's DATABASE_URL secret, not the plan job's read-only database-url. Nothing was changed.`,
      );
      expect(await catalogSnapshot(db)).toEqual(before);
      // Reading is all the plan needs: the same role plans.
      const plan = await rollback({ mode: 'plan' }, url.toString());
      expect(plan.errors).toEqual([]);
      expect(plan.code).toBe(0);
    } finally {
      await db.query(`DROP OWNED BY ${role}`);
      await db.query(`DROP ROLE ${role}`);
    }
  });

  it.each(['30d', '0', '-5s'])(
    'refuses statement-timeout %s naming the range, and the process ends at once',
    async (value) => {
      const started = Date.now();
      const run = await rollback({ mode: 'rollback', 'statement-timeout': value });
      expect(run.signal).toBeNull();
      expect(run.code).toBe(1);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(run.errors[0]).toBe(
        `Input "statement-timeout" is "${value}": it must be a duration from 1ms to 2147483647ms (596h 31m), what PostgreSQL accepts for lock_timeout and statement_timeout (0, no limit, is not allowed), such as 30s, 5m, 1h or 1h30m (units ms, s, m, h, d).`,
      );
    },
  );

  it('names the database as host:port/database in the log and the summary, never its user or password', async () => {
    const url = new URL(db.url);
    const run = await rollback({ mode: 'status' });
    expect(run.code).toBe(0);
    const target = `${url.hostname}:${url.port}${url.pathname}`;
    expect(run.stdout).toContain(`Database: ${target}`);
    expect(run.summary).toContain(`database \`${target}\``);
    // The pipeline's decision summary and record name the target with the database output.
    expect(run.outputs.database).toBe(target);
    // The ::add-mask:: commands are the runner's, consumed and never shown.
    const shown = run.everything
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n');
    expect(shown).not.toContain(decodeURIComponent(url.password));
    expect(shown).not.toContain(`${decodeURIComponent(url.username)}:`);
  });
});
