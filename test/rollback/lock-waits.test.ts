import path from 'node:path';
import knexFactory from 'knex';
import pg from 'pg';
import { renderSummary } from '../../src/migrations/report.js';
import type { RollbackOptions } from '../../src/migrations/rollback.js';
import { adminQuery, createDatabase, type TestDatabase } from '../helpers/database.js';
import { repoRoot } from '../helpers/run-bundle.js';
import {
  afterLockTimeouts,
  applyBatches,
  failureOf,
  migrationRows,
  openTransaction,
  recordingLogger,
  rollbackOptions,
  runRollback,
} from './helpers.js';

export const locksProject = path.join(repoRoot, 'test/fixtures/rollback-locks');
const locksDir = path.join(locksProject, 'migrations');
const settings = {
  directories: [locksDir],
  tableName: 'knex_migrations',
  schemaName: 'public',
  sortDirsSeparately: false,
  disableTransactions: false,
};

// Lock waits on real PostgreSQL: an application's transaction, or a running knex migrate, holds
// what the rollback needs. Each attempt waits briefly and is rolled back; the run retries until
// lock-wait-budget is spent, naming who blocked it.
describe('rollback lock waits', () => {
  let db: TestDatabase;
  let holder: pg.Client;
  beforeEach(async () => {
    db = await createDatabase('rollback_locks');
    const knex = db.knex();
    await applyBatches(knex, [['001_create_orders.js'], ['002_add_orders_note.js']], locksDir);
    await knex.destroy();
    holder = new pg.Client({ connectionString: db.url, application_name: 'nightly-report' });
    await holder.connect();
  });
  afterEach(async () => {
    await holder.end().catch(() => undefined);
    await db.drop();
  });

  const noteColumn = async (): Promise<boolean> =>
    (await db.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'"))
      .length === 1;

  /** A rollback of the last batch that waits at most 200 ms per attempt, as the lock tests need it. */
  const waitingRollback = (url: string, overrides: Partial<RollbackOptions>): RollbackOptions =>
    rollbackOptions(url, { settings, mode: 'rollback', allowDestructive: true, lockTimeoutMs: 200, ...overrides });

  /** A report-style transaction holding a read lock on orders, as an application's would. */
  async function holdReadLock(): Promise<number> {
    await holder.query('BEGIN');
    await holder.query('SELECT count(*) AS report_total FROM orders');
    return (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  }

  it('retries while a blocker holds the table, succeeds once it ends, and names it in the log and the summary', async () => {
    const blockerPid = await holdReadLock();
    const logger = recordingLogger();
    const release = afterLockTimeouts(logger, 2).then(() => holder.query('COMMIT'));
    const result = await runRollback(
      // A budget whose quarter (750 ms) passes while the blocker holds the table: the waits grow within it.
      waitingRollback(db.url, {
        lockWaitBudgetMs: 3000,
        logger,
      }),
    );
    await release;
    expect(result.committed).toBe(true);
    expect(result.rolledBack).toEqual(['002_add_orders_note.js']);
    expect(await noteColumn()).toBe(false);
    const timedOut = result.attempts.filter((attempt) => attempt.outcome === 'lock timeout');
    expect(timedOut.length).toBeGreaterThanOrEqual(2);
    expect(result.attempts.at(-1)).toMatchObject({ outcome: 'done', attempt: timedOut.length + 1 });
    // Attempts start at a quarter of lock-timeout and grow with the budget spent, never past lock-timeout.
    // The third starts at least 225 ms in (two waits of at least 50 ms, sleeps of at least 50 and 75
    // ms), 30% of the budget's first quarter: it waits at least 60 ms.
    const waits = result.attempts.map((attempt) => attempt.lockTimeoutMs);
    expect(waits[0]).toBe(50);
    expect(waits[2]).toBeGreaterThanOrEqual(60);
    expect(waits).toEqual([...waits].sort((a, b) => a - b));
    expect(Math.max(...waits)).toBeLessThanOrEqual(200);
    const log = logger.lines.join('\n');
    expect(log).toMatch(
      new RegExp(
        `Attempt 1 \\(lock_timeout 50ms\\): waited in vain for a lock at "ALTER TABLE orders DROP COLUMN note", rolled back; blocked by pid ${blockerPid}, application_name "nightly-report", user \\w+, state idle in transaction, transaction open [\\d.]+m?s, query "SELECT pg_backend_pid\\(\\) AS pid"; next attempt in \\d+ms`,
      ),
    );
    expect(log).toMatch(/The rollback: done at attempt \d+/);
    expect(log).toMatch(
      /Session settings: .*idle_in_transaction_session_timeout 60000ms.*client_connection_check_interval 2s/,
    );
    const summary = renderSummary(result, 'mode rollback', { ok: true });
    expect(summary).toContain(
      `### Lock waits: ${result.attempts.length} attempt(s), ${timedOut.length} timed out and rolled back`,
    );
    expect(summary).toContain(`pid ${blockerPid}`);
  });

  it('keeps the destroyed data once when the attempts that made a copy were rolled back (preserve-data)', async () => {
    await holder.query('BEGIN');
    await holder.query('SELECT count(*) FROM orders');
    const logger = recordingLogger();
    const release = afterLockTimeouts(logger, 1).then(() => holder.query('COMMIT'));
    const result = await runRollback(
      waitingRollback(db.url, {
        lockWaitBudgetMs: 30_000,
        logger,
        preserve: { enabled: true, maxBytes: 64 * 1024 * 1024, schema: 'rollback_preserved' },
      }),
    );
    await release;
    expect(result.committed).toBe(true);
    expect(result.attempts.filter((attempt) => attempt.outcome === 'lock timeout').length).toBeGreaterThanOrEqual(1);
    expect(await noteColumn()).toBe(false);
    // One copy, from the attempt that committed: the rolled-back attempts' copies are not reported.
    const catalog = await db.query<{ copy_table: string }>('SELECT copy_table FROM rollback_preserved.catalog');
    expect(catalog).toHaveLength(1);
    expect(JSON.stringify(result)).toContain(catalog[0].copy_table);
  });

  it('fails when the blocker outlasts lock-wait-budget: nothing changed, the blocker named, what to do said', async () => {
    const blockerPid = await holdReadLock();
    await holder.query("SELECT 'the monthly revenue report' AS report");
    const started = Date.now();
    const error = await failureOf(
      runRollback(
        waitingRollback(db.url, {
          lockWaitBudgetMs: 2000,
        }),
      ),
    );
    expect(Date.now() - started).toBeLessThan(3500);
    expect(error.message).toMatch(
      new RegExp(
        `The rollback: the locks it needs were not free within lock-wait-budget \\(2s\\): \\d+ attempt\\(s\\).*Blocked by: pid ${blockerPid}, application_name "nightly-report".*query "SELECT 'the monthly revenue report' AS report".*Nothing was changed.*wait for that session to finish and run again, or end it if that is safe \\(SELECT pg_terminate_backend\\(pid\\) for pid ${blockerPid}\\)`,
        's',
      ),
    );
    expect(error.result?.attempts.length).toBeGreaterThanOrEqual(4);
    expect(error.result?.attempts.every((attempt) => attempt.outcome === 'lock timeout')).toBe(true);
    expect(error.result?.committed).toBe(false);
    expect(await noteColumn()).toBe(true);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(2);
  });

  it('refuses, changing nothing, when what is applied changed while it waited (a deploy between attempts)', async () => {
    await holdReadLock();
    // Once the first attempt has timed out on orders, 002 is re-applied by someone else (its row
    // written again): the plan the reviewer approved is not the one the next attempt would undo.
    // The blocker stays, so no attempt can go on with the old plan.
    const logger = recordingLogger();
    const redeploy = afterLockTimeouts(logger, 1).then(() =>
      db.query(
        "UPDATE knex_migrations SET migration_time = migration_time + interval '1 minute' WHERE name = '002_add_orders_note.js'",
      ),
    );
    const error = await failureOf(
      runRollback(
        waitingRollback(db.url, {
          lockWaitBudgetMs: 30_000,
          logger,
        }),
      ),
    );
    await redeploy;
    expect(error.message).toMatch(
      /^Attempt (\d+) re-read public\.knex_migrations under Knex's lock row and found a different plan \(fingerprint [0-9a-f]{64}, was [0-9a-f]{64} at the first attempt\): a knex migrate or another rollback changed what is applied while this run waited for locks\. Nothing was changed\. Run mode: plan again/,
    );
    expect(Number(/^Attempt (\d+)/.exec(error.message)?.[1])).toBeGreaterThanOrEqual(2);
    expect(error.result?.committed).toBe(false);
    expect(error.result?.rolledBack).toEqual([]);
    expect(await noteColumn()).toBe(true);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(2);
  });

  it('names a blocker of another role without pg_read_all_stats, and says what hides its query', async () => {
    // The rollback's user owns the schema, as in production; the blocker is another role's session.
    const role = `rollback_owner_${Math.random().toString(16).slice(2, 8)}`;
    const password = `pw-${Math.random().toString(16).slice(2)}`;
    await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    try {
      await db.query(
        `ALTER TABLE orders OWNER TO ${role}; ALTER TABLE knex_migrations OWNER TO ${role};
         ALTER TABLE knex_migrations_lock OWNER TO ${role}; GRANT USAGE ON SCHEMA public TO ${role}`,
      );
      const blockerPid = await holdReadLock();
      await holder.query("SELECT 'the monthly revenue report' AS report");
      const url = new URL(db.url);
      url.username = role;
      url.password = password;
      const error = await failureOf(
        runRollback(
          waitingRollback(url.toString(), {
            lockWaitBudgetMs: 1500,
          }),
        ),
      );
      expect(error.message).toContain(
        `Blocked by: pid ${blockerPid}, application_name "nightly-report", user ${new URL(db.url).username}, state and query hidden: grant pg_read_all_stats to the rollback\u2019s user to see them`,
      );
      expect(error.message).not.toContain('monthly revenue report');
      expect(await noteColumn()).toBe(true);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await db.query(`REASSIGN OWNED BY ${role} TO CURRENT_USER; DROP OWNED BY ${role}`);
      await adminQuery(`DROP ROLE ${role}`);
    }
  });

  it('leaves the query out with show-blocker-queries: false', async () => {
    const blockerPid = await holdReadLock();
    await holder.query("SELECT 'card 4111 1111 1111 1111' AS secret_query");
    const error = await failureOf(
      runRollback(
        waitingRollback(db.url, {
          lockWaitBudgetMs: 600,
          showBlockerQueries: false,
        }),
      ),
    );
    expect(error.message).toContain(`pid ${blockerPid}, application_name "nightly-report"`);
    expect(error.message).not.toContain('4111');
    expect(JSON.stringify(error.result)).not.toContain('4111');
  });

  it("shows the query of a session found only as a holder of Knex's lock, unless show-blocker-queries is false", async () => {
    // A deploy's knex migrate between two statements: Knex's flag set, knex_migrations written in its
    // open transaction. The rollback waits on no lock, so only the holders of the lock tables name it.
    await db.query('UPDATE knex_migrations_lock SET is_locked = 1');
    const { client: migrating, pid } = await openTransaction(db.url, 'knex-migrate-deploy', [
      'LOCK TABLE knex_migrations IN ROW EXCLUSIVE MODE',
      "SELECT 'deploy 42: 003_add_orders_total' AS migrating",
    ]);
    try {
      const shown = await failureOf(runRollback(waitingRollback(db.url, { lockWaitBudgetMs: 600 })));
      expect(shown.result?.attempts[0].waitedAt).toBe(
        "Knex's migration lock (public.knex_migrations_lock.is_locked = 1)",
      );
      expect(shown.message).toMatch(
        new RegExp(
          `Blocked by: pid ${pid}, application_name "knex-migrate-deploy", user \\w+, state idle in transaction, transaction open [\\d.]+m?s, query "SELECT 'deploy 42: 003_add_orders_total' AS migrating"`,
        ),
      );
      const hidden = await failureOf(
        runRollback(waitingRollback(db.url, { lockWaitBudgetMs: 600, showBlockerQueries: false })),
      );
      expect(hidden.message).toContain(`Blocked by: pid ${pid}, application_name "knex-migrate-deploy"`);
      expect(JSON.stringify([hidden.message, hidden.result])).not.toContain('deploy 42');
    } finally {
      await migrating.end();
    }
    expect(await noteColumn()).toBe(true);
  });

  it('retries a dry run the same way', async () => {
    await holdReadLock();
    const error = await failureOf(
      runRollback(
        rollbackOptions(db.url, {
          settings,
          mode: 'plan',
          dryRun: true,
          lockTimeoutMs: 100,
          lockWaitBudgetMs: 500,
        }),
      ),
    );
    expect(error.message).toMatch(/^The dry run: the locks it needs were not free within lock-wait-budget \(500ms\)/);
    expect(error.result?.attempts.length).toBeGreaterThanOrEqual(2);
  });

  it('waits for a running knex migrate within the budget, then fails naming it', async () => {
    // A real Knex Migrator applying a slow migration: it holds Knex's lock row for its whole transaction.
    const migrating = knexFactory({
      client: 'pg',
      connection: { connectionString: db.url, application_name: 'knex-migrate-deploy' },
      pool: { min: 0, max: 2 },
    });
    const slow = {
      getMigrations: () => Promise.resolve(['001_create_orders.js', '002_add_orders_note.js', '003_slow_up.js']),
      getMigrationName: (name: string) => name,
      getMigration: (name: string) =>
        Promise.resolve(
          name === '003_slow_up.js'
            ? { up: (knex: knexFactory.Knex) => knex.raw('SELECT pg_sleep(6)'), down: () => Promise.resolve() }
            : { up: () => Promise.resolve(), down: () => Promise.resolve() },
        ),
    };
    const running = migrating.migrate.latest({ migrationSource: slow });
    try {
      let migratePid: number | undefined;
      for (let poll = 0; poll < 100 && !migratePid; poll++) {
        migratePid = (
          await db.query<{ pid: number }>(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'knex-migrate-deploy' AND query LIKE '%pg_sleep%'",
          )
        )[0]?.pid;
        if (!migratePid) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(migratePid).toBeDefined();
      const error = await failureOf(
        runRollback(
          waitingRollback(db.url, {
            lockWaitBudgetMs: 2000,
          }),
        ),
      );
      expect(error.message).toMatch(
        new RegExp(
          `not free within lock-wait-budget \\(2s\\).*Blocked by: pid ${migratePid}, application_name "knex-migrate-deploy"`,
          's',
        ),
      );
      expect(error.result?.attempts[0].waitedAt).toBe("Knex's lock row in public.knex_migrations_lock");
      expect(error.result?.attempts.length).toBeGreaterThanOrEqual(3);
      expect(await noteColumn()).toBe(true);
    } finally {
      await running;
      await migrating.destroy();
    }
    expect((await migrationRows((sql) => db.query(sql))).map((row) => row.name)).toEqual([
      '001_create_orders.js',
      '002_add_orders_note.js',
      '003_slow_up.js',
    ]);
  });
});
