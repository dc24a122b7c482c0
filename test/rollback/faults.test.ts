import pg from 'pg';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import {
  applyBatches,
  failureOf,
  faultsDir,
  inFaults,
  migrationRows,
  rollbackOptions,
  runRollback,
} from './helpers.js';

const QUOTED = `007_o'reilly "quoted"; DROP TABLE widgets; --.js`;

// Faults on real PostgreSQL, with the fixture in test/fixtures/rollback-faults.
describe('rollback faults', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createDatabase('rollback_faults');
  });
  afterEach(async () => {
    delete process.env.SLOW_DOWN_SECONDS;
    delete process.env.FAIL_CONCURRENT_DOWN;
    await db.drop();
  });

  async function apply(batches: string[][]): Promise<void> {
    const knex = db.knex();
    await applyBatches(knex, batches);
    await knex.destroy();
  }
  const columns = async (table: string): Promise<string[]> =>
    (
      await db.query<{ column_name: string }>(
        'SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY 1',
        [table],
      )
    ).map((row) => row.column_name);
  const tables = async (): Promise<string[]> =>
    (
      await db.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      )
    ).map((row) => row.table_name);
  const lockFlag = async (): Promise<number> =>
    (await db.query<{ is_locked: number }>('SELECT is_locked FROM knex_migrations_lock'))[0].is_locked;

  /** Waits until a session of ours is inside pg_sleep (the slow down()), and returns its pid. */
  async function sleepingPid(applicationName: string): Promise<number> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const rows = await db.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'",
        [applicationName],
      );
      if (rows.length) return rows[0].pid;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no session "${applicationName}" reached pg_sleep`);
  }

  it('leaves the batch applied when a down() fails halfway, naming the migration and the statement', async () => {
    await apply([['001_create_widgets.js', '002_add_widget_color.js', '003_failing_down.js', '008_add_gadgets.js']]);
    const before = await migrationRows((sql) => db.query(sql));
    const error = await failureOf(
      runRollback(rollbackOptions(db.url, inFaults({ mode: 'rollback', allowDestructive: true }))),
    );
    expect(error.message).toContain(
      'Migration 003_failing_down.js failed at "DROP TABLE gizmos_that_never_existed": table "gizmos_that_never_existed" does not exist',
    );
    expect(error.message).toMatch(
      /Nothing was changed: the transaction was rolled back, so 008_add_gadgets.js, 003_failing_down.js, 002_add_widget_color.js, 001_create_widgets.js are still applied/,
    );
    expect(await migrationRows((sql) => db.query(sql))).toEqual(before);
    // 008's down ran before the failure and 003 had half run: neither survives.
    expect(await tables()).toEqual(expect.arrayContaining(['gadgets', 'gizmos', 'widgets']));
    expect(await columns('widgets')).not.toContain('half_undone');
    expect(await lockFlag()).toBe(0);
    // Advisory locks are per database; other test files run rollbacks on their own databases meanwhile.
    expect(
      await db.query(
        "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      ),
    ).toEqual([]);
    expect(error.result!.statements.find((s) => s.error)).toMatchObject({
      migration: '003_failing_down.js',
      sql: 'DROP TABLE gizmos_that_never_existed',
    });
  });

  it("keeps Knex's lock row invisible inside the uncommitted transaction, and turns a second run away at once naming the holder", async () => {
    await apply([['001_create_widgets.js'], ['004_slow_down.js']]);
    process.env.SLOW_DOWN_SECONDS = '6';
    const first = runRollback(
      rollbackOptions(
        db.url,
        inFaults({ mode: 'rollback', allowDestructive: true, applicationName: 'rollback-first' }),
      ),
    );
    const pid = await sleepingPid('rollback-first');
    // Knex set is_locked = 1 inside our transaction: no other session can see it.
    expect(await lockFlag()).toBe(0);
    // So status names the holder from pg_locks and pg_stat_activity instead.
    const status = await runRollback(rollbackOptions(db.url, inFaults({ mode: 'status' })));
    expect(status.before!.lock.holders).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pid, applicationName: 'rollback-first', holds: 'the rollback advisory lock' }),
      ]),
    );
    const started = Date.now();
    const second = await failureOf(
      runRollback(
        rollbackOptions(
          db.url,
          inFaults({ mode: 'rollback', allowDestructive: true, applicationName: 'rollback-second' }),
        ),
      ),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    // It did not wait for the first: that one is still inside its down().
    expect(
      await db.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%' AND state = 'active'", [
        pid,
      ]),
    ).toHaveLength(1);
    expect(second.message).toMatch(
      new RegExp(
        `Another run holds the migration lock on public.knex_migrations: pid ${pid}, application_name "rollback-first", client [^,]+, user \\w+, connected since \\d{4}-.*Nothing was read or changed`,
      ),
    );
    const result = await first;
    expect(result.rolledBack).toEqual(['004_slow_down.js']);
    expect((await migrationRows((sql) => db.query(sql))).map((row) => row.name)).toEqual(['001_create_widgets.js']);
  });

  it('never runs a stale plan when two runs start together: one undoes the reviewed plan, the other is refused', async () => {
    await apply([['001_create_widgets.js'], ['002_add_widget_color.js'], ['008_add_gadgets.js']]);
    for (let round = 0; round < 2; round++) {
      const { fingerprint } = await runRollback(rollbackOptions(db.url, inFaults({ mode: 'plan' })));
      const runs = await Promise.allSettled(
        ['a', 'b'].map((name) =>
          runRollback(
            rollbackOptions(
              db.url,
              inFaults({
                mode: 'rollback',
                allowDestructive: true,
                expectedPlan: fingerprint,
                applicationName: `rollback-${name}`,
              }),
            ),
          ),
        ),
      );
      const succeeded = runs.filter((run) => run.status === 'fulfilled');
      const refused = runs.filter((run): run is PromiseRejectedResult => run.status === 'rejected');
      expect(succeeded).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect((refused[0].reason as Error).message).toMatch(
        /Another run holds the migration lock|Input "expected-plan" is/,
      );
      expect(await migrationRows((sql) => db.query(sql))).toHaveLength(2 - round);
    }
  });

  it('survives its session being killed mid-rollback: nothing changed, lock free, the re-run succeeds', async () => {
    await apply([['001_create_widgets.js'], ['004_slow_down.js']]);
    process.env.SLOW_DOWN_SECONDS = '20';
    const run = runRollback(
      rollbackOptions(
        db.url,
        inFaults({ mode: 'rollback', allowDestructive: true, applicationName: 'rollback-killed' }),
      ),
    );
    const pid = await sleepingPid('rollback-killed');
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    const error = await failureOf(run);
    expect(error.message).toMatch(/session was terminated while 004_slow_down.js was running.*Nothing was changed/s);
    expect((await migrationRows((sql) => db.query(sql))).map((row) => row.name)).toEqual([
      '001_create_widgets.js',
      '004_slow_down.js',
    ]);
    expect(await tables()).not.toContain('sprocket_marker');
    expect(await lockFlag()).toBe(0);
    process.env.SLOW_DOWN_SECONDS = '0';
    const rerun = await runRollback(rollbackOptions(db.url, inFaults({ mode: 'rollback', allowDestructive: true })));
    expect(rerun.rolledBack).toEqual(['004_slow_down.js']);
  });

  it('sets statement-timeout on the session: a down() running longer is cancelled and nothing changes', async () => {
    await apply([['001_create_widgets.js'], ['004_slow_down.js']]);
    process.env.SLOW_DOWN_SECONDS = '5';
    const error = await failureOf(
      runRollback(
        rollbackOptions(db.url, inFaults({ mode: 'rollback', allowDestructive: true, statementTimeoutMs: 500 })),
      ),
    );
    expect(error.message).toMatch(
      /Migration 004_slow_down.js failed at "SELECT pg_sleep\(5\)": canceling statement due to statement timeout/,
    );
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(2);
  });

  it("retries while another session holds Knex's lock row, then fails within lock-wait-budget naming it", async () => {
    await apply([['001_create_widgets.js']]);
    const holder = new pg.Client({ connectionString: db.url, application_name: 'knex-cli-holder' });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM knex_migrations_lock FOR UPDATE');
      const started = Date.now();
      const error = await failureOf(
        runRollback(
          rollbackOptions(
            db.url,
            inFaults({ mode: 'rollback', allowDestructive: true, lockTimeoutMs: 400, lockWaitBudgetMs: 1000 }),
          ),
        ),
      );
      expect(Date.now() - started).toBeLessThan(3000);
      expect(error.message).toMatch(
        /not free within lock-wait-budget \(1s\): \d+ attempt\(s\), each waiting at most lock-timeout \(400ms\).*Blocked by: pid \d+, application_name "knex-cli-holder".*Nothing was changed/s,
      );
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(1);
  });

  it("bounds a down() waiting on an application's lock by lock-timeout and lock-wait-budget, changing nothing", async () => {
    await apply([['001_create_widgets.js']]);
    const app = new pg.Client({ connectionString: db.url, application_name: 'ticket-service-pod' });
    await app.connect();
    try {
      await app.query('BEGIN');
      await app.query('LOCK TABLE widgets IN ACCESS SHARE MODE');
      const started = Date.now();
      const error = await failureOf(
        runRollback(
          rollbackOptions(
            db.url,
            inFaults({ mode: 'rollback', allowDestructive: true, lockTimeoutMs: 500, lockWaitBudgetMs: 1500 }),
          ),
        ),
      );
      expect(Date.now() - started).toBeLessThan(4000);
      expect(error.message).toMatch(
        /The rollback: the locks it needs were not free within lock-wait-budget \(1.5s\).*Blocked by: pid \d+, application_name "ticket-service-pod".*Nothing was changed/s,
      );
      expect(error.result?.attempts.at(-1)).toMatchObject({
        outcome: 'lock timeout',
        waitedAt: '"DROP TABLE widgets"',
      });
    } finally {
      await app.query('ROLLBACK');
      await app.end();
    }
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(1);
    expect(await tables()).toContain('widgets');
  });

  it('handles a stuck lock row: status shows it, rollback fails fast, unlock frees it only with force-unlock', async () => {
    await apply([['001_create_widgets.js']]);
    await db.query('UPDATE knex_migrations_lock SET is_locked = 1');
    const status = await runRollback(rollbackOptions(db.url, inFaults({ mode: 'status' })));
    expect(status.before!.lock).toMatchObject({ isLocked: true, holders: [] });

    const started = Date.now();
    const refused = await failureOf(
      runRollback(rollbackOptions(db.url, inFaults({ mode: 'rollback', allowDestructive: true }))),
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(refused.message).toMatch(
      /is set, but no session holds it: a crashed or killed run left it behind.*mode: unlock with force-unlock: true/s,
    );

    const notForced = await failureOf(runRollback(rollbackOptions(db.url, inFaults({ mode: 'unlock' }))));
    expect(notForced.message).toMatch(/not freed because force-unlock is false/);
    expect(await lockFlag()).toBe(1);

    const unlocked = await runRollback(rollbackOptions(db.url, inFaults({ mode: 'unlock', forceUnlock: true })));
    expect(unlocked.committed).toBe(true);
    expect(unlocked.lockChecks.join('\n')).toMatch(
      /is_locked = 1[\s\S]*No session holds[\s\S]*Re-checked under the row lock and the advisory lock: no holder. Set is_locked = 0 on 1 row/,
    );
    expect(await lockFlag()).toBe(0);
    const rolled = await runRollback(rollbackOptions(db.url, inFaults({ mode: 'rollback', allowDestructive: true })));
    expect(rolled.rolledBack).toEqual(['001_create_widgets.js']);
  });

  it('refuses to unlock while a session holds the lock', async () => {
    await apply([['001_create_widgets.js']]);
    await db.query('UPDATE knex_migrations_lock SET is_locked = 1');
    const holder = new pg.Client({ connectionString: db.url, application_name: 'running-migration' });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('UPDATE knex_migrations SET batch = batch');
      const error = await failureOf(
        runRollback(rollbackOptions(db.url, inFaults({ mode: 'unlock', forceUnlock: true }))),
      );
      expect(error.message).toMatch(/set and held: pid \d+, application_name "running-migration".*it was not freed/s);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(await lockFlag()).toBe(1);
  });

  it('treats names with quotes and SQL as data', async () => {
    await apply([['001_create_widgets.js'], [QUOTED, '008_add_gadgets.js']]);
    const down = await runRollback(
      rollbackOptions(
        db.url,
        inFaults({ mode: 'down', request: { kind: 'down', migration: QUOTED }, allowDestructive: true }),
      ),
    );
    expect(down.rolledBack).toEqual([QUOTED]);
    expect(await tables()).toEqual(expect.arrayContaining(['widgets', 'gadgets']));
    expect(await tables()).not.toContain('quoted_names');
    const plan = await runRollback(
      rollbackOptions(db.url, inFaults({ mode: 'plan', request: { kind: 'to', to: '001_create_widgets.js' } })),
    );
    expect(plan.plan.map((m) => m.name)).toEqual(['008_add_gadgets.js']);
    const error = await failureOf(
      runRollback(
        rollbackOptions(
          db.url,
          inFaults({ mode: 'rollback', request: { kind: 'to', to: "x'; DROP TABLE widgets; --" } }),
        ),
      ),
    );
    expect(error.message).toMatch(/Input "to" names "x'; DROP TABLE widgets; --", which is neither applied nor a file/);
    expect(await tables()).toContain('widgets');
  });

  it('treats a migrations table and schema named with quotes and SQL as identifiers', async () => {
    const tableName = `odd "migrations"; DROP TABLE widgets; --`;
    const schemaName = `it's "odd"`;
    await db.query(`CREATE SCHEMA "it's ""odd"""`);
    const knex = db.knex();
    const { FileMigrationSource, listMigrationFiles } = await import('../../src/migrations/source.js');
    const files = listMigrationFiles([faultsDir]).filter((file) =>
      ['001_create_widgets.js', '008_add_gadgets.js'].includes(file.name),
    );
    await knex.migrate.latest({ migrationSource: new FileMigrationSource(files), tableName, schemaName });
    await knex.destroy();
    const settings = {
      directories: [faultsDir],
      tableName,
      schemaName,
      sortDirsSeparately: false,
      disableTransactions: false,
    };
    const status = await runRollback(rollbackOptions(db.url, { mode: 'status', settings }));
    expect(status.before!.applied.map((row) => row.name)).toEqual(['001_create_widgets.js', '008_add_gadgets.js']);
    const result = await runRollback(rollbackOptions(db.url, { mode: 'rollback', settings, allowDestructive: true }));
    expect(result.rolledBack).toEqual(['008_add_gadgets.js', '001_create_widgets.js']);
    // Knex's bookkeeping on the oddly named tables is still recognised as bookkeeping, not as a DELETE of data.
    const bookkeeping = result.statements.filter((statement) => statement.sql.includes('odd ""migrations""'));
    expect(bookkeeping.length).toBeGreaterThan(3);
    expect(bookkeeping.filter((statement) => statement.risk !== 'bookkeeping')).toEqual([]);
    expect(await tables()).not.toContain('widgets');
    expect(
      await db.query(`SELECT count(*)::int AS n FROM "it's ""odd"""."odd ""migrations""; DROP TABLE widgets; --"`),
    ).toEqual([{ n: 0 }]);
  });

  it('refuses a plan with a non-transactional migration unless allow-non-atomic, naming it', async () => {
    await apply([['001_create_widgets.js'], ['005_concurrent_index.js', '008_add_gadgets.js']]);
    const refused = await failureOf(
      runRollback(rollbackOptions(db.url, inFaults({ mode: 'rollback', allowDestructive: true }))),
    );
    expect(refused.message).toMatch(
      /The plan contains 005_concurrent_index.js, which opts out of transactions \(config.transaction = false.*allow-non-atomic: true/s,
    );
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(3);

    const refusedDryRun = await failureOf(
      runRollback(rollbackOptions(db.url, inFaults({ mode: 'plan', dryRun: true }))),
    );
    // The dry run is the real run minus COMMIT: it rehearses what it can, then fails naming both inputs.
    expect(refusedDryRun.message).toMatch(/^Dry run failed: the real run with these inputs would be refused/);
    expect(refusedDryRun.message).toMatch(
      /allow-non-atomic is false, and 005_concurrent_index.js opts out of transactions.*allow-destructive is false, and 1 statement\(s\).*008_add_gadgets.js: "DROP TABLE gadgets"/s,
    );
    const dryRun = await runRollback(
      rollbackOptions(db.url, inFaults({ mode: 'plan', dryRun: true, allowNonAtomic: true, allowDestructive: true })),
    );
    expect(dryRun.statements.map((statement) => statement.sql)).toContain('DROP TABLE gadgets');
    expect(dryRun.statements.some((statement) => statement.sql.includes('widgets_name_idx'))).toBe(false);
    expect(dryRun.warnings.join(' ')).toMatch(/Not rehearsed: 005_concurrent_index.js runs outside a transaction/);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(3);

    const result = await runRollback(
      rollbackOptions(db.url, inFaults({ mode: 'rollback', allowDestructive: true, allowNonAtomic: true })),
    );
    expect(result.segments).toEqual([
      { transactional: true, migrations: ['008_add_gadgets.js'] },
      { transactional: false, migrations: ['005_concurrent_index.js'] },
    ]);
    expect(result.rolledBack).toEqual(['008_add_gadgets.js', '005_concurrent_index.js']);
    expect(result.batches).toEqual([2]);
    expect(result.warnings.join(' ')).toMatch(/DROP INDEX CONCURRENTLY IF EXISTS widgets_name_idx/);
    expect(await db.query("SELECT 1 FROM pg_indexes WHERE indexname = 'widgets_name_idx'")).toEqual([]);
    expect((await migrationRows((sql) => db.query(sql))).map((row) => row.name)).toEqual(['001_create_widgets.js']);
  });

  it('refuses a destructive transactional segment without allow-destructive, even when non-atomic runs are allowed', async () => {
    await apply([['001_create_widgets.js'], ['005_concurrent_index.js', '008_add_gadgets.js']]);
    const before = await migrationRows((sql) => db.query(sql));
    const error = await failureOf(
      runRollback(rollbackOptions(db.url, inFaults({ mode: 'rollback', allowNonAtomic: true }))),
    );
    expect(error.message).toContain(
      '- 008_add_gadgets.js: "DROP TABLE gadgets" (destructive: drops table public.gadgets and all its rows)',
    );
    expect(error.message).toMatch(/^Refused: .*allow-destructive is false. The statement was not sent/);
    expect(error.message).toContain('Undone and committed: (none).');
    expect(error.result!.rolledBack).toEqual([]);
    expect(error.result!.statements).toContainEqual(
      expect.objectContaining({ sql: 'DROP TABLE gadgets', migration: '008_add_gadgets.js', outcome: 'refused' }),
    );
    // Neither the refused segment nor the one after it ran.
    expect(await tables()).toContain('gadgets');
    expect(await db.query("SELECT 1 FROM pg_indexes WHERE indexname = 'widgets_name_idx'")).toHaveLength(1);
    expect(await migrationRows((sql) => db.query(sql))).toEqual(before);
    expect(await lockFlag()).toBe(0);
  });

  it('refuses a destructive down() outside a transaction without allow-destructive, before it is sent', async () => {
    await apply([['001_create_widgets.js'], ['009_widget_archive_outside_transaction.js']]);
    await db.query("INSERT INTO widget_archive (id, name) VALUES (1, 'kept')");
    const before = await migrationRows((sql) => db.query(sql));
    const error = await failureOf(
      runRollback(rollbackOptions(db.url, inFaults({ mode: 'rollback', allowNonAtomic: true }))),
    );
    expect(error.message).toContain(
      'Refused: the downs would destroy data or remove security, and allow-destructive is false. The statement was not sent; this down() runs outside a transaction, so what it sent before this statement stays.',
    );
    expect(error.message).toContain(
      '- 009_widget_archive_outside_transaction.js: "DROP TABLE widget_archive" (destructive: drops table public.widget_archive and all its rows)',
    );
    expect(error.message).toContain('Undone and committed: (none).');
    expect(error.result!.rolledBack).toEqual([]);
    expect(error.result!.statements).toContainEqual(
      expect.objectContaining({ sql: 'DROP TABLE widget_archive', outcome: 'refused' }),
    );
    // Outside a transaction nothing could have undone it: it was never sent.
    expect(await db.query('SELECT id, name FROM widget_archive')).toEqual([{ id: 1, name: 'kept' }]);
    expect(await migrationRows((sql) => db.query(sql))).toEqual(before);
    // Knex set its lock row outside a transaction: it was let through to free it again.
    expect(await lockFlag()).toBe(0);
  });

  it('says exactly what is undone, what remains and how to resume when a segment fails', async () => {
    await apply([['001_create_widgets.js'], ['006_concurrent_index_failing.js', '008_add_gadgets.js']]);
    process.env.FAIL_CONCURRENT_DOWN = '1';
    const error = await failureOf(
      runRollback(
        rollbackOptions(db.url, inFaults({ mode: 'rollback', allowDestructive: true, allowNonAtomic: true })),
      ),
    );
    expect(error.message).toContain(
      'Migration 006_concurrent_index_failing.js failed at "DROP INDEX CONCURRENTLY no_such_index": index "no_such_index" does not exist.',
    );
    expect(error.message).toContain(
      'Undone and committed: 008_add_gadgets.js. Still applied: 006_concurrent_index_failing.js.',
    );
    expect(error.message).toContain(
      'To resume once fixed: mode: rollback, to: "001_create_widgets.js", allow-non-atomic: true, allow-destructive: true.',
    );
    expect(error.result!.rolledBack).toEqual(['008_add_gadgets.js']);
    expect((await migrationRows((sql) => db.query(sql))).map((row) => row.name)).toEqual([
      '001_create_widgets.js',
      '006_concurrent_index_failing.js',
    ]);
    expect(await lockFlag()).toBe(0);
    delete process.env.FAIL_CONCURRENT_DOWN;
    const resumed = await runRollback(
      rollbackOptions(
        db.url,
        inFaults({
          mode: 'rollback',
          request: { kind: 'to', to: '001_create_widgets.js' },
          allowDestructive: true,
          allowNonAtomic: true,
        }),
      ),
    );
    expect(resumed.rolledBack).toEqual(['006_concurrent_index_failing.js']);
  });

  it('reports applied migrations whose file is missing, and still rolls back others', async () => {
    await apply([['001_create_widgets.js'], ['008_add_gadgets.js']]);
    await db.query("INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('000_gone.js', 1, now())");
    const status = await runRollback(rollbackOptions(db.url, inFaults({ mode: 'status' })));
    expect(status.before!.missingFiles).toEqual(['000_gone.js']);
    const result = await runRollback(rollbackOptions(db.url, inFaults({ mode: 'rollback', allowDestructive: true })));
    expect(result.rolledBack).toEqual(['008_add_gadgets.js']);
    const error = await failureOf(
      runRollback(rollbackOptions(db.url, inFaults({ mode: 'rollback', allowDestructive: true }))),
    );
    expect(error.message).toMatch(/Cannot undo 000_gone.js: applied .* but no file/);
  });
});
