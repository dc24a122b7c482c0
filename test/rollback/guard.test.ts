import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { StatementGuard } from '../../src/migrations/guard.js';
import { inDownFrame, newFrame, watchDowns } from '../../src/migrations/origin.js';
import { FileMigrationSource, listMigrationFiles } from '../../src/migrations/source.js';
import { classifyEach } from '../../src/sql/classify.js';
import { failureOf, rollbackOptions, runRollback } from './helpers.js';

// The statement guard on real PostgreSQL: a database with committed rows in several tables,
// one migration whose down() tries to escape the transaction, the dry run or allow-destructive.
// After each run the database must be exactly as before.
const UP = `
  await knex.raw("CREATE TABLE accounts (id serial PRIMARY KEY, name text)");
  await knex.raw("INSERT INTO accounts (name) SELECT 'a' || g FROM generate_series(1, 50) g");
  await knex.raw("CREATE TABLE h1 (id int)");
  await knex.raw("INSERT INTO h1 SELECT generate_series(1, 500)");
  await knex.raw("CREATE OR REPLACE FUNCTION purge_accounts() RETURNS void VOLATILE LANGUAGE sql AS 'DELETE FROM accounts'");`;

function project(down: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-'));
  fs.writeFileSync(
    path.join(dir, '001_escape.cjs'),
    `exports.up = async (knex) => {${UP}\n};\nexports.down = async (knex) => {\n${down}\n};\n`,
  );
  return dir;
}

describe('the statement guard', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createDatabase('guard');
  });
  afterEach(async () => {
    await db.drop();
  });

  /** Everything a down() could change, read the same way before and after. */
  async function state(): Promise<unknown> {
    const [counts] = await db.query(
      `SELECT (SELECT count(*) FROM accounts) AS accounts, (SELECT count(*) FROM h1) AS h1,
              (SELECT last_value FROM accounts_id_seq) AS seq,
              (SELECT is_locked FROM knex_migrations_lock) AS locked`,
    );
    const tables = await db.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    const migrations = await db.query('SELECT name, batch FROM knex_migrations ORDER BY id');
    const grants = await db.query(
      "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants WHERE table_schema = 'public' ORDER BY 1, 2, 3",
    );
    const policies = await db.query('SELECT policyname, qual FROM pg_policies ORDER BY 1');
    const settings = await db.query(
      "SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal UNION ALL SELECT rulename, 'r' FROM pg_rules WHERE schemaname = 'public'",
    );
    return { counts, tables, migrations, grants, policies, settings };
  }

  async function setUp(down: string): Promise<string> {
    const dir = project(down);
    const knex = db.knex();
    await knex.migrate.latest({ migrationSource: new FileMigrationSource(listMigrationFiles([dir])) });
    await knex.destroy();
    return dir;
  }

  function options(dir: string, overrides: Parameters<typeof rollbackOptions>[1] = {}) {
    return rollbackOptions(db.url, {
      settings: {
        directories: [dir],
        tableName: 'knex_migrations',
        schemaName: 'public',
        sortDirsSeparately: false,
        disableTransactions: false,
      },
      mode: 'rollback',
      classifyEach,
      ...overrides,
    });
  }

  const COMMIT_HACK = `await knex.raw('DROP TABLE h1'); await knex.raw('COMMIT'); await knex.raw('BEGIN');`;

  it.each([
    ['a dry run', { mode: 'plan' as const, dryRun: true }],
    ['a run without allow-destructive', {}],
    ['a run with allow-destructive', { allowDestructive: true }],
  ])('refuses the COMMIT hack in %s: nothing changes, the message names COMMIT', async (_label, overrides) => {
    const dir = await setUp(COMMIT_HACK);
    const before = await state();
    const error = await failureOf(runRollback(options(dir, overrides)));
    expect(await state()).toEqual(before);
    if ('dryRun' in overrides || 'allowDestructive' in overrides) {
      expect(error.message).toMatch(/001_escape.cjs sent "COMMIT"\. Transaction control from a migration is refused/);
      expect(error.message).toContain('exports.config = { transaction: false }');
      expect(error.result!.statements).toContainEqual(
        expect.objectContaining({ sql: 'COMMIT', migration: '001_escape.cjs', outcome: 'refused' }),
      );
    } else {
      expect(error.message).toMatch(/Refused: .*"DROP TABLE h1"/s);
    }
  });

  it.each([
    ['COMMIT alone', `await knex.raw('COMMIT');`, /sent "COMMIT"/],
    [
      'BEGIN; DROP; DELETE in one string',
      `await knex.raw('BEGIN; DROP TABLE h1; DELETE FROM accounts');`,
      /sent "BEGIN"/,
    ],
    ['SAVEPOINT s; DELETE in one string', `await knex.raw('SAVEPOINT s; DELETE FROM accounts');`, /sent "SAVEPOINT s"/],
    [
      "the down()'s own Knex transaction committed from inside it",
      `await knex.raw('DELETE FROM accounts'); await knex.commit();`,
      /ended the rollback's own transaction/,
    ],
  ])('refuses %s even with allow-destructive, sending none of it', async (_label, down, message) => {
    const dir = await setUp(down);
    const before = await state();
    const error = await failureOf(runRollback(options(dir, { allowDestructive: true })));
    expect(error.message).toMatch(message);
    expect(await state()).toEqual(before);
  });

  it('keeps a refusal even when the migration catches the error', async () => {
    const dir = await setUp(`try { await knex.raw('COMMIT'); } catch {} await knex.raw('SELECT 1');`);
    const before = await state();
    const error = await failureOf(runRollback(options(dir, { allowDestructive: true })));
    expect(error.message).toMatch(/sent "COMMIT"/);
    expect(await state()).toEqual(before);
  });

  it.each([
    [
      'a temporary function that deletes, then called',
      `await knex.raw("CREATE FUNCTION pg_temp.tidy() RETURNS void LANGUAGE sql AS 'DELETE FROM accounts'"); await knex.raw('SELECT pg_temp.tidy()');`,
      /calls function pg_temp.tidy/,
    ],
    [
      'an existing VOLATILE function called',
      `await knex.raw('SELECT purge_accounts()');`,
      /calls function purge_accounts/,
    ],
    ['setval', `await knex.raw("SELECT setval('accounts_id_seq', 1)");`, /sets a sequence to a new value/],
    [
      'GRANT to PUBLIC',
      `await knex.raw('GRANT ALL ON accounts TO PUBLIC');`,
      /grants ALL PRIVILEGES on table public.accounts to PUBLIC/,
    ],
    [
      'a permissive policy',
      `await knex.raw('CREATE POLICY open ON accounts USING (true)');`,
      /creates permissive row-level security policy open/,
    ],
    [
      'session_replication_role',
      `await knex.raw('SET session_replication_role = replica');`,
      /session_replication_role/,
    ],
    [
      'DISABLE TRIGGER',
      `await knex.raw('CREATE FUNCTION t() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$'); await knex.raw('ALTER TABLE accounts DISABLE TRIGGER ALL');`,
      /disables the triggers on public.accounts/,
    ],
    [
      'CREATE RULE ... DO INSTEAD NOTHING',
      `await knex.raw('CREATE RULE ignore AS ON INSERT TO accounts DO INSTEAD NOTHING');`,
      /creates rule ignore/,
    ],
    ['ALTER SEQUENCE ... RESTART', `await knex.raw('ALTER SEQUENCE accounts_id_seq RESTART');`, /restarts sequence/],
    ['TRUNCATE', `await knex.raw('TRUNCATE accounts');`, /empties table public.accounts/],
  ])('refuses %s without allow-destructive, before it is sent', async (_label, down, message) => {
    const dir = await setUp(down);
    const before = await state();
    const error = await failureOf(runRollback(options(dir)));
    expect(error.message).toMatch(/^Refused: /);
    expect(error.message).toMatch(message);
    expect(await state()).toEqual(before);
  });

  it('never sends in a dry run what its ROLLBACK cannot undo, and records it as "would run"', async () => {
    const dir = await setUp(
      `await knex.raw("SELECT setval('accounts_id_seq', 1)"); await knex.raw("SELECT nextval('accounts_id_seq')"); await knex.raw('SELECT purge_accounts()'); await knex.raw('DROP TABLE h1');`,
    );
    const before = await state();
    // It goes on past each of them, so that its failure lists all three, not only the first.
    const error = await failureOf(runRollback(options(dir, { mode: 'plan', dryRun: true })));
    expect(await state()).toEqual(before);
    expect(error.message).toMatch(/^Dry run failed: .*allow-destructive is false, and 3 statement\(s\)/s);
    for (const text of ["SELECT setval('accounts_id_seq', 1)", 'SELECT purge_accounts()', 'DROP TABLE h1'])
      expect(error.message).toContain(`- 001_escape.cjs: "${text}"`);
    const byText = Object.fromEntries(
      error.result!.statements.map((statement) => [statement.sql, statement.outcome ?? 'sent']),
    );
    expect(byText).toMatchObject({
      "SELECT setval('accounts_id_seq', 1)": 'would run',
      "SELECT nextval('accounts_id_seq')": 'would run',
      'SELECT purge_accounts()': 'would run',
      'DROP TABLE h1': 'sent',
    });
  });

  it.each([0, 5, 50])('fails the run when a query is fired %i ms after down() returns', async (delay) => {
    const dir = await setUp(`setTimeout(() => knex.raw('DELETE FROM accounts').catch(() => undefined), ${delay});`);
    const before = await state();
    const error = await failureOf(runRollback(options(dir, { allowDestructive: true })));
    expect(error.message).toContain('001_escape.cjs sent a query after its down() returned: DELETE FROM accounts');
    expect(await state()).toEqual(before);
  });

  it("lets Knex's own savepoints work: a migration using knex.transaction inside its down()", async () => {
    const dir = await setUp(`await knex.transaction(async (trx) => { await trx.raw('DROP TABLE h1'); });`);
    const result = await runRollback(options(dir, { allowDestructive: true }));
    expect(result.committed).toBe(true);
    expect(result.statements.map((statement) => statement.sql)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SAVEPOINT/),
        'DROP TABLE h1',
        expect.stringMatching(/^RELEASE SAVEPOINT/),
      ]),
    );
    expect(await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'h1'")).toEqual([]);
  });

  it('in observe mode sends everything and refuses nothing, keeping each statement with its frame, its rows and whether it came late', async () => {
    await setUp('');
    const guard = new StatementGuard(classifyEach, ['public.knex_migrations', 'public.knex_migrations_lock'], {
      atomic: true,
      dryRun: false,
      allowDestructive: false,
      observe: true,
    });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const stopWatching = watchDowns();
    try {
      guard.install(client);
      const frame = newFrame('001_escape.cjs');
      let late: Promise<unknown> = Promise.resolve();
      let timer: NodeJS.Timeout | undefined;
      await inDownFrame(
        '001_escape.cjs',
        async () => {
          await client.query('DELETE FROM accounts WHERE id <= $1', [10]);
          await client.query('SELECT 1; SELECT purge_accounts()');
          late = new Promise((resolve) => setImmediate(() => resolve(client.query('DELETE FROM h1 WHERE id <= 5'))));
          timer = setTimeout(() => undefined, 60_000);
        },
        frame,
      );
      await late;
      await client.query('SELECT count(*) FROM knex_migrations');
      // A timer still pending is reported, not refused.
      expect(await guard.settle([frame], () => new Promise((resolve) => setImmediate(resolve)), 10)).toEqual([frame]);
      clearTimeout(timer);
      expect(guard.refusal).toBeUndefined();
      expect(
        guard.observed.map((seen) => [
          seen.statement.sql,
          seen.statement.risk,
          seen.statement.rowCount,
          seen.frame === frame,
          seen.late,
          seen.opaqueCode,
        ]),
      ).toEqual([
        ['DELETE FROM accounts WHERE id <= 10', 'destructive', 10, true, false, undefined],
        ['SELECT 1', 'safe', undefined, true, false, undefined],
        ['SELECT purge_accounts()', 'destructive', undefined, true, false, ['function purge_accounts']],
        ['DELETE FROM h1 WHERE id <= 5', 'destructive', 5, true, true, undefined],
        ['SELECT count(*) FROM knex_migrations', 'bookkeeping', undefined, false, false, undefined],
      ]);
      expect(
        await db.query('SELECT (SELECT count(*) FROM accounts)::int AS accounts, (SELECT count(*) FROM h1)::int AS h1'),
      ).toEqual([{ accounts: 0, h1: 495 }]);
    } finally {
      stopWatching();
      await client.end();
    }
  });

  it("hides the action's connection string from the environment while migrations run", async () => {
    const dir = await setUp(
      "if (process.env.INPUT_DATABASE_URL_TEST !== undefined) throw new Error('saw the connection string');",
    );
    process.env.INPUT_DATABASE_URL_TEST = `${db.url}`;
    try {
      const url = db.url;
      const result = await runRollback(options(dir, { allowDestructive: true, databaseUrl: url }));
      expect(result.committed).toBe(true);
      expect(process.env.INPUT_DATABASE_URL_TEST).toBe(url);
    } finally {
      delete process.env.INPUT_DATABASE_URL_TEST;
    }
  });
});
