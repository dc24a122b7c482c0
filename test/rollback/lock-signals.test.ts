import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { ensureBundle, repoRoot, runBundle } from '../helpers/run-bundle.js';
import { applyBatches, copyProject, migrationRows, openTransaction } from './helpers.js';

const locksProject = path.join(repoRoot, 'test/fixtures/rollback-locks');
const locksDir = path.join(locksProject, 'migrations');

// No lock outlives the runner: the bundle, run as the runner runs it, frozen with SIGSTOP or
// cancelled with SIGINT or SIGTERM in the middle of its transaction, or blocked past its budget.
describe('the rollback bundle when the runner freezes or cancels', () => {
  let db: TestDatabase;
  let project: string;
  // Built before the first test: its waits must not include a rebuild of the bundle.
  beforeAll(() => ensureBundle('rollback'), 180_000);
  beforeEach(async () => {
    db = await createDatabase('rollback_signals');
    project = copyProject(locksProject);
    const knex = db.knex();
    await applyBatches(knex, [['001_create_orders.js'], ['002_add_orders_note.js']], locksDir);
    await knex.destroy();
  });
  afterEach(async () => {
    fs.rmSync(project, { recursive: true, force: true });
    await db.drop();
  });

  const inputs = (extra: Record<string, string> = {}) => ({
    'database-url': db.url,
    'migrations-dir': 'migrations',
    mode: 'rollback',
    'allow-destructive': 'true',
    ...extra,
  });
  const noteColumn = async (): Promise<boolean> =>
    (await db.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'"))
      .length === 1;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * Signals a process and all its descendants, as a frozen runner VM freezes every process: the
   * action relaunches itself in a child process (src/actions/common/liftoff.ts).
   */
  function signalTree(pid: number, signal: NodeJS.Signals): void {
    let listed = '';
    try {
      listed = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
    } catch {
      // ps exits 1 when the process has no children.
    }
    const children = listed
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
    process.kill(pid, signal);
    for (const child of children) signalTree(child, signal);
  }

  /** Polls until `check` holds or `ms` pass; whether it held. */
  async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await check()) return true;
      await sleep(50);
    }
    return check();
  }
  /** The run's session while it holds ACCESS EXCLUSIVE on orders (its first DDL is done). */
  const holdsOrders = async (): Promise<boolean> =>
    (
      await db.query(
        `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.relation = 'orders'::regclass AND l.mode = 'AccessExclusiveLock' AND l.granted
            AND a.application_name LIKE 'db-rollback-actions/rollback%'`,
      )
    ).length > 0;
  /** Whether another session reads orders at once (a 100 ms lock_timeout). */
  async function readable(): Promise<boolean> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query("SET lock_timeout = '100ms'");
      await client.query('SELECT count(*) FROM orders');
      return true;
    } catch {
      return false;
    } finally {
      await client.end();
    }
  }
  const runSessions = async (): Promise<number> =>
    (
      await db.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'db-rollback-actions/rollback%' AND datname = current_database()",
      )
    ).length;

  it('frees its locks within session-idle-timeout when frozen after its first DDL, and fails after waking, changing nothing', async () => {
    let child: ChildProcess | undefined;
    const run = runBundle('rollback', {
      inputs: inputs({ 'session-idle-timeout': '2s' }),
      cwd: project,
      env: { SLOW_DOWN_SECONDS: '0.5' },
      onSpawn: (spawned) => (child = spawned),
    });
    expect(await within(30_000, holdsOrders)).toBe(true);
    signalTree(child!.pid!, 'SIGSTOP');
    const frozenAt = Date.now();
    // The stopped runner's transaction sits idle: PostgreSQL ends it after session-idle-timeout.
    expect(await within(2000 + 5000, readable)).toBe(true);
    const freedAfter = Date.now() - frozenAt;
    signalTree(child!.pid!, 'SIGCONT');
    const result = await run;
    expect(result.code).not.toBe(0);
    expect(result.errors.join('\n')).toMatch(/terminated.*Nothing was changed/s);
    expect(await noteColumn()).toBe(true);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(2);
    expect(freedAfter).toBeGreaterThanOrEqual(1000);
  });

  // GitHub's cancel sends SIGINT, then SIGTERM 7.5 s later: either one alone must free the locks.
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    'cancels a running statement on %s: backend gone, locks free within 2 s, nothing changed',
    async (signal, code) => {
      let child: ChildProcess | undefined;
      const run = runBundle('rollback', {
        inputs: inputs(),
        cwd: project,
        env: { SLOW_DOWN_SECONDS: '30' },
        onSpawn: (spawned) => (child = spawned),
      });
      const sleeping = async () =>
        (
          await db.query(
            "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'db-rollback-actions/rollback%' AND query LIKE '%pg_sleep%' AND state = 'active'",
          )
        ).length > 0;
      expect(await within(30_000, sleeping)).toBe(true);
      expect(await holdsOrders()).toBe(true);
      child!.kill(signal);
      expect(await within(2000, async () => (await runSessions()) === 0 && (await readable()))).toBe(true);
      const result = await run;
      expect(result.code).toBe(code);
      expect(result.stdout).toContain(`Received ${signal}: cancelling the rollback's running statement`);
      expect(result.stdout).toMatch(
        /Cancelled: the running statement was cancelled and the transaction rolled back; its locks are released\. Nothing was committed/,
      );
      expect(await noteColumn()).toBe(true);
      expect(await migrationRows((sql) => db.query(sql))).toHaveLength(2);
    },
  );

  it('fails within about 3 s when a blocker outlasts lock-wait-budget: 2s, naming it, nothing changed', async () => {
    const { client: blocker, pid: blockerPid } = await openTransaction(db.url, 'nightly-report', [
      'SELECT count(*) AS report_total FROM orders',
    ]);
    try {
      const run = runBundle('rollback', { inputs: inputs({ 'lock-wait-budget': '2s' }), cwd: project });
      // The budget runs from the first attempt: time it from the run's first wait on the blocker's lock.
      const waiting = async (): Promise<boolean> =>
        (
          await db.query(
            "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'db-rollback-actions/rollback%' AND wait_event_type = 'Lock'",
          )
        ).length > 0;
      expect(await within(30_000, waiting)).toBe(true);
      const firstWait = Date.now();
      const result = await run;
      expect(Date.now() - firstWait).toBeLessThan(3000);
      expect(result.code).not.toBe(0);
      expect(result.errors.join('\n')).toMatch(
        new RegExp(
          `not free within lock-wait-budget \\(2s\\).*Blocked by: pid ${blockerPid}, application_name "nightly-report".*Nothing was changed`,
          's',
        ),
      );
      expect(JSON.parse(result.outputs['rolled-back'])).toEqual([]);
    } finally {
      await blocker.end();
    }
    expect(await noteColumn()).toBe(true);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(2);
  });

  it.each([
    [{ 'lock-wait-budget': '-1' }, /Input "lock-wait-budget" is "-1": it must be a duration above zero/],
    [{ 'session-idle-timeout': '0' }, /Input "session-idle-timeout" is "0": it must be a duration of at least 1s/],
    [
      { 'lock-timeout': '30s', 'lock-wait-budget': '10s' },
      /Input "lock-wait-budget" \(10s\) is shorter than input "lock-timeout" \(30s\)/,
    ],
  ])('refuses bad input %j before connecting, changing nothing', async (bad, message) => {
    const result = await runBundle('rollback', { inputs: inputs(bad), cwd: project });
    expect(result.code).toBe(1);
    expect(result.errors.join('\n')).toMatch(message);
    expect(await noteColumn()).toBe(true);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(2);
  });
});
