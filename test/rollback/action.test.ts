import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminQuery, createDatabase, type TestDatabase } from '../helpers/database.js';
import { repoRoot, runBundle, type BundleRun } from '../helpers/run-bundle.js';
import { BATCH_ONE, BATCH_TWO, migrateTicketService, ticketServiceDir } from '../helpers/ticket-service.js';
import { FileMigrationSource, listMigrationFiles } from '../../src/migrations/source.js';
import { applyBatches, copyProject, faultsProject, migrationRows } from './helpers.js';

// dist/rollback/index.js run as the runner runs it: Node 24, INPUT_* variables, GITHUB_OUTPUT
// and GITHUB_STEP_SUMMARY files, from a copy of the Ticket Service project outside this repository.
describe('the rollback action bundle', () => {
  let db: TestDatabase;
  let project: string;
  const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-S3cret`;
  const ROLE = `rollback_user_${Math.random().toString(36).slice(2, 8)}`;
  let url: string;

  beforeAll(async () => {
    db = await createDatabase('rollback_bundle');
    await adminQuery(`CREATE ROLE ${ROLE} LOGIN SUPERUSER PASSWORD '${PASSWORD}'`);
    const parsed = new URL(db.url);
    parsed.username = ROLE;
    parsed.password = PASSWORD;
    url = parsed.toString();
    project = copyProject(ticketServiceDir);
  });
  beforeEach(async () => {
    await db.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    const knex = db.knex();
    await migrateTicketService(knex);
    await knex.destroy();
  });
  afterAll(async () => {
    await db.drop();
    await adminQuery(`DROP ROLE IF EXISTS ${ROLE}`);
    fs.rmSync(project, { recursive: true, force: true });
  });

  const all: BundleRun[] = [];
  async function rollback(
    inputs: Record<string, string | undefined>,
    options: { cwd?: string } = {},
  ): Promise<BundleRun> {
    const run = await runBundle('rollback', {
      inputs: { 'database-url': url, knexfile: 'knexfile.ts', ...inputs },
      cwd: options.cwd ?? project,
    });
    all.push(run);
    return run;
  }

  it("reports status from the project's knexfile, loading its TypeScript migrations outside this repository", async () => {
    const run = await rollback({ mode: 'status' });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.outputs.applied)).toEqual([...BATCH_ONE, ...BATCH_TWO]);
    expect(JSON.parse(run.outputs.pending)).toEqual([]);
    for (const name of ['plan', 'rolled-back', 'batches']) expect(JSON.parse(run.outputs[name])).toEqual([]);
    expect(run.outputs['plan-fingerprint']).toBe('');
    expect(run.outputs.sql).toBe('');
    expect(run.summary).toContain('| 7 | 007_add_security_tables.ts | 2 |');
    expect(run.summary).toMatch(/Lock: public.knex_migrations_lock.is_locked = 0/);
  });

  it('plans, then rolls back exactly the reviewed plan, and reads every output back', async () => {
    // Without allow-destructive the dry run fails as the real run would, listing every refusal.
    const refused = await rollback({ mode: 'plan', 'dry-run': 'true' });
    expect(refused.code).toBe(1);
    expect(refused.errors[0]).toMatch(
      /^Dry run failed: the real run with these inputs would be refused.*allow-destructive is false, and 9 statement\(s\)/s,
    );
    expect(refused.errors[0]).toContain('007_add_security_tables.ts: "DROP TABLE IF EXISTS failed_login_attempts"');
    expect(refused.summary).toContain('**Result: failed.**');
    expect(refused.outputs['plan-fingerprint']).toMatch(/^[0-9a-f]{64}$/);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(7);

    const plan = await rollback({ mode: 'plan', 'dry-run': 'true', 'allow-destructive': 'true' });
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.outputs.plan)).toEqual([
      { name: '007_add_security_tables.ts', batch: 2, transaction: true },
      { name: '006_add_ticket_state_machine.ts', batch: 2, transaction: true },
    ]);
    expect(plan.outputs.sql).toContain(
      '-- 007_add_security_tables.ts\nDROP TABLE IF EXISTS failed_login_attempts; -- destructive',
    );
    expect(plan.outputs.sql).toContain(
      `delete from "public"."knex_migrations" where "name" = '006_add_ticket_state_machine.ts'`,
    );
    expect(JSON.parse(plan.outputs['rolled-back'])).toEqual([]);
    expect(plan.summary).toMatch(
      /<details><summary>SQL executed \(\d+ statements, 9 destructive or security-removing\) — rolled back<\/summary>/,
    );
    expect(plan.summary).toMatch(/same locks as a real run/);
    // The after-state is read once our own advisory lock is released: we are not reported as a holder.
    expect(plan.summary).not.toContain('holds the rollback advisory lock');
    expect(plan.outputs['sql-file']).not.toBe('');
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(7);

    const run = await rollback({
      mode: 'rollback',
      'allow-destructive': 'true',
      'expected-plan': plan.outputs['plan-fingerprint'],
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.outputs['rolled-back'])).toEqual([
      '007_add_security_tables.ts',
      '006_add_ticket_state_machine.ts',
    ]);
    expect(JSON.parse(run.outputs.batches)).toEqual([2]);
    expect(JSON.parse(run.outputs.applied)).toEqual(BATCH_ONE);
    expect(JSON.parse(run.outputs.pending)).toEqual(BATCH_TWO);
    expect(run.outputs['plan-fingerprint']).toBe(plan.outputs['plan-fingerprint']);
    expect(run.summary).toMatch(/### Before[\s\S]*007_add_security_tables.ts[\s\S]*### After/);
    expect(run.summary).toContain('undid 2 migration(s)');
    expect(await migrationRows((sql) => db.query(sql))).toEqual(BATCH_ONE.map((name) => ({ name, batch: 1 })));
  });

  it('refuses destructive downs, sets every output anyway, and leaves the database as it was', async () => {
    const run = await rollback({ mode: 'down', migration: '004_add_rls_role_verification.ts' });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toMatch(
      /Refused: .*\n- 004_add_rls_role_verification.ts: "DROP POLICY IF EXISTS tickets_tenant_isolation ON tickets" \(security/s,
    );
    expect(JSON.parse(run.outputs.plan)).toEqual([
      { name: '004_add_rls_role_verification.ts', batch: 1, transaction: true },
    ]);
    expect(JSON.parse(run.outputs['rolled-back'])).toEqual([]);
    expect(JSON.parse(run.outputs.applied)).toHaveLength(7);
    expect(run.summary).toContain('**Result: failed.**');
    expect(run.summary).toMatch(
      /### Statements that destroy data or remove security\n\n_Not committed._[\s\S]*\| 004_add_rls_role_verification.ts \| `DROP POLICY IF EXISTS tickets_tenant_isolation ON tickets` \| security \(refused\) \|/,
    );
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(7);
  });

  it('refuses the COMMIT hack in a dry run through the bundle: exit 1, COMMIT shown as refused, nothing changed', async () => {
    const dir = copyProject(project);
    try {
      fs.writeFileSync(
        path.join(dir, 'migrations', '008_commit_hack.cjs'),
        "exports.up = async (knex) => { await knex.raw('CREATE TABLE h1 AS SELECT generate_series(1, 500) AS id'); };\nexports.down = async (knex) => { await knex.raw('DROP TABLE h1; COMMIT; BEGIN'); };\n",
      );
      const knex = db.knex();
      await knex.migrate.latest({
        migrationSource: new FileMigrationSource(
          listMigrationFiles([path.join(dir, 'migrations')]).filter((file) => file.name.endsWith('.cjs')),
        ),
        disableMigrationsListValidation: true,
      });
      await knex.destroy();
      const rows = await migrationRows((sql) => db.query(sql));
      const run = await rollback(
        {
          mode: 'plan',
          'dry-run': 'true',
          'allow-destructive': 'true',
          knexfile: undefined,
          'migrations-dir': 'migrations',
        },
        { cwd: dir },
      );
      expect(run.code).toBe(1);
      expect(run.errors[0]).toContain(
        '008_commit_hack.cjs sent "COMMIT". Transaction control from a migration is refused',
      );
      expect(run.outputs.sql).toMatch(/^DROP TABLE h1; -- destructive: .* -- REFUSED: not sent$/m);
      expect(run.outputs.sql).toMatch(/^COMMIT; -- warning: .* -- REFUSED: not sent$/m);
      expect(run.outputs.sql).toMatch(/^BEGIN; -- REFUSED: not sent$/m);
      expect((await db.query('SELECT count(*)::int AS n FROM h1'))[0].n).toBe(500);
      expect(await migrationRows((sql) => db.query(sql))).toEqual(rows);
      expect((await db.query('SELECT is_locked FROM knex_migrations_lock'))[0].is_locked).toBe(0);
    } finally {
      await db.query('DROP TABLE IF EXISTS h1');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('undoes one migration with mode down and allow-destructive', async () => {
    const run = await rollback({ mode: 'down', migration: '007_add_security_tables.ts', 'allow-destructive': 'true' });
    expect(run.errors).toEqual([]);
    expect(JSON.parse(run.outputs['rolled-back'])).toEqual(['007_add_security_tables.ts']);
    expect(JSON.parse(run.outputs.batches)).toEqual([]);
  });

  describe('refuses bad input with an error naming the input, changing nothing', () => {
    const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
      ['steps 0', { mode: 'rollback', steps: '0' }, /Input "steps" is 0: it must be a whole number of at least 1/],
      ['steps -1', { mode: 'rollback', steps: '-1' }, /Input "steps" is -1: it must be a whole number of at least 1/],
      [
        'steps 1.5',
        { mode: 'rollback', steps: '1.5' },
        /Input "steps" is "1.5": it must be a whole number of at least 1/,
      ],
      [
        'steps abc',
        { mode: 'rollback', steps: 'abc' },
        /Input "steps" is "abc": it must be a whole number of at least 1/,
      ],
      [
        'to with steps',
        { mode: 'rollback', steps: '1', to: '003_add_blockchain_tracking.ts' },
        /Inputs "steps" and "to" were both given/,
      ],
      [
        'unknown to',
        { mode: 'rollback', to: '999_missing.ts' },
        /Input "to" names "999_missing.ts", which is neither applied nor a file/,
      ],
      [
        'unknown migration',
        { mode: 'down', migration: '999_missing.ts' },
        /Input "migration" names "999_missing.ts", which is neither applied nor a file/,
      ],
      [
        'an unknown mode',
        { mode: 'nuke' },
        /Input "mode" is "nuke". Valid values are: \[status, plan, rollback, down, unlock, restore-data, prune-data, estimate-data\]/,
      ],
      ['no database-url', { 'database-url': '' }, /Input "database-url" is required and was not given/],
      [
        'force-unlock outside unlock',
        { mode: 'rollback', 'force-unlock': 'true' },
        /Input "force-unlock" is only allowed with mode: unlock/,
      ],
      [
        'a malformed expected-plan',
        { mode: 'rollback', 'expected-plan': 'abc' },
        /Input "expected-plan" is "abc": it must be the plan-fingerprint/,
      ],
      [
        'a missing migrations-dir',
        { mode: 'rollback', knexfile: undefined, 'migrations-dir': 'no-such-dir' },
        /Input "migrations-dir" \(or the knexfile's migrations.directory\): Migrations directory ".*no-such-dir" does not exist/,
      ],
      [
        'an empty migrations-dir',
        { mode: 'rollback', knexfile: undefined, 'migrations-dir': 'empty' },
        /Input "migrations-dir": .*empty contains no migration files/,
      ],
      [
        'a knexfile that does not exist',
        { mode: 'rollback', knexfile: 'nope.ts' },
        /Input "knexfile" is ".*nope.ts": no such file/,
      ],
    ];
    it.each(cases)('%s', async (_label, inputs, message) => {
      fs.mkdirSync(path.join(project, 'empty'), { recursive: true });
      const run = await rollback(inputs);
      expect(run.code).toBe(1);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]).toMatch(message);
      // No stack trace for a mistake the user can fix.
      expect(run.stdout).not.toMatch(/\n\s+at .*\.js:\d+/);
      for (const name of ['applied', 'pending', 'plan', 'rolled-back', 'batches'])
        expect(() => JSON.parse(run.outputs[name]) as unknown).not.toThrow();
      expect(await migrationRows((sql) => db.query(sql))).toHaveLength(7);
    });

    // A knexfile that throws: test/migrations/knexfile-env.test.ts.

    it('an unreachable database', async () => {
      const run = await rollback({
        mode: 'status',
        'database-url': `postgres://someone:${PASSWORD}@127.0.0.1:1/nowhere`,
      });
      expect(run.code).toBe(1);
      expect(run.errors[0]).toMatch(
        /Input "database-url": could not connect to 127.0.0.1:1\/nowhere: .*ECONNREFUSED.*The runner cannot reach 127.0.0.1:1/,
      );
    });
  });

  it('writes the password in no log line, output, summary or error', () => {
    expect(all.length).toBeGreaterThan(10);
    for (const run of all) {
      // ::add-mask:: is the instruction that makes the runner hide the value; the runner never displays it.
      const visible = run.everything
        .split('\n')
        .filter((line) => !line.startsWith('::add-mask::'))
        .join('\n');
      expect(visible).not.toContain(PASSWORD);
      expect(visible).not.toContain(encodeURIComponent(PASSWORD));
    }
  });

  it('runs from a directory other than the repository with explicit inputs instead of a knexfile', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'rollback-elsewhere-'));
    try {
      const run = await rollback(
        { mode: 'plan', knexfile: undefined, 'migrations-dir': path.join(project, 'migrations'), steps: '2' },
        { cwd: elsewhere },
      );
      expect(run.errors).toEqual([]);
      expect((JSON.parse(run.outputs.plan) as Array<{ name: string }>).map((entry) => entry.name)).toEqual(
        [...BATCH_TWO].reverse().concat([...BATCH_ONE].reverse()),
      );
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('the rollback bundle with an ESM TypeScript project', () => {
  it("loads a .ts migration whose own import of a .ts helper resolves from the caller's copy, and undoes it", async () => {
    const db = await createDatabase('rollback_esm');
    const project = copyProject(path.join(repoRoot, 'test/fixtures/module-formats/esm-project'));
    try {
      // The state Knex leaves after applying 001_b.ts; its down() touches nothing else.
      await db.query(`CREATE TABLE knex_migrations (id serial PRIMARY KEY, name varchar(255), batch integer, migration_time timestamptz);
        CREATE TABLE knex_migrations_lock (index serial PRIMARY KEY, is_locked integer);
        INSERT INTO knex_migrations_lock (is_locked) VALUES (0);
        INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('001_b.ts', 1, now());`);
      const run = await runBundle('rollback', { inputs: { 'database-url': db.url, mode: 'rollback' }, cwd: project });
      expect(run.errors).toEqual([]);
      expect(JSON.parse(run.outputs['rolled-back'])).toEqual(['001_b.ts']);
      expect(JSON.parse(run.outputs.pending)).toEqual(['001_b.ts', '002_c.mjs']);
      expect(await db.query('SELECT * FROM knex_migrations')).toEqual([]);
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
      await db.drop();
    }
  });
});

describe('the rollback bundle under contention', () => {
  let db: TestDatabase;
  let project: string;
  beforeEach(async () => {
    db = await createDatabase('rollback_contention');
    project = copyProject(faultsProject);
    const knex = db.knex();
    await applyBatches(knex, [['001_create_widgets.js'], ['004_slow_down.js']]);
    await knex.destroy();
  });
  afterEach(async () => {
    fs.rmSync(project, { recursive: true, force: true });
    await db.drop();
  });

  it('turns a second run away at once, naming the first by pid and application_name', async () => {
    const inputs = { 'database-url': db.url, mode: 'rollback', 'allow-destructive': 'true' };
    const first = runBundle('rollback', { inputs, cwd: project, env: { SLOW_DOWN_SECONDS: '8' } });
    let pid: number | undefined;
    for (let attempt = 0; attempt < 300 && !pid; attempt++) {
      pid = (
        await db.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep%' AND state = 'active' AND pid <> pg_backend_pid()",
        )
      )[0]?.pid;
      if (!pid) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(pid).toBeDefined();
    const second = await runBundle('rollback', { inputs, cwd: project });
    expect(second.code).toBe(1);
    expect(second.errors[0]).toMatch(
      new RegExp(
        `Another run holds the migration lock on public.knex_migrations: pid ${pid}, application_name "db-rollback-actions/rollback run 4242 example/ticket-service"`,
      ),
    );
    expect(JSON.parse(second.outputs['rolled-back'])).toEqual([]);
    // It did not wait for the first: that one is still inside its down().
    expect(
      await db.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%' AND state = 'active'", [
        pid,
      ]),
    ).toHaveLength(1);
    const done = await first;
    expect(done.errors).toEqual([]);
    expect(JSON.parse(done.outputs['rolled-back'])).toEqual(['004_slow_down.js']);
  });

  it('frees a stuck lock with mode unlock only when forced, reporting what it checked', async () => {
    await db.query('UPDATE knex_migrations_lock SET is_locked = 1');
    const status = await runBundle('rollback', { inputs: { 'database-url': db.url, mode: 'status' }, cwd: project });
    expect(status.summary).toMatch(
      /\*\*public.knex_migrations_lock.is_locked = 1\*\*; no session holds it: a crashed run left it/,
    );
    const refused = await runBundle('rollback', {
      inputs: { 'database-url': db.url, mode: 'rollback', 'allow-destructive': 'true' },
      cwd: project,
    });
    expect(refused.errors[0]).toMatch(/no session holds it.*mode: unlock with force-unlock: true/s);
    const report = await runBundle('rollback', { inputs: { 'database-url': db.url, mode: 'unlock' }, cwd: project });
    expect(report.code).toBe(1);
    expect(report.errors[0]).toMatch(/not freed because force-unlock is false/);
    const unlocked = await runBundle('rollback', {
      inputs: { 'database-url': db.url, mode: 'unlock', 'force-unlock': 'true' },
      cwd: project,
    });
    expect(unlocked.errors).toEqual([]);
    expect(unlocked.summary).toMatch(/### Lock checks[\s\S]*is_locked = 1[\s\S]*Set is_locked = 0 on 1 row/);
    expect(unlocked.summary).toContain("Knex's migration lock freed.");
    expect((await db.query('SELECT is_locked FROM knex_migrations_lock'))[0].is_locked).toBe(0);
  });
});
