import pg from 'pg';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { runRollback } from '../../src/migrations/rollback.js';
import { repoRoot } from '../helpers/run-bundle.js';
import { afterLockTimeouts, applyBatches, recordingLogger } from '../rollback/helpers.js';
import { checksum, preservingOptions, reshapeDir } from './helpers.js';
import path from 'node:path';

const concurrentDir = path.join(repoRoot, 'test/fixtures/preserve/concurrent');
const typedDir = path.join(repoRoot, 'test/fixtures/preserve/typed');

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('what each kind of destroying statement keeps', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createDatabase('preserve_kinds');
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    await db.query(
      'DROP SCHEMA IF EXISTS rollback_preserved CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public',
    );
  });

  /** Orders 1 (import) and 2 (web) committed, and a writer in the middle of inserting `row`. */
  async function ordersWithOpenWrite(row: string): Promise<pg.Client> {
    const knex = db.knex();
    await applyBatches(knex, [['001_base.js'], ['002_imported_orders.js']], concurrentDir);
    await knex.destroy();
    await db.query("INSERT INTO orders (kind, total) VALUES ('import', 1), ('web', 2)");
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    await writer.query('BEGIN');
    await writer.query(`INSERT INTO orders (kind, total) VALUES ${row}`);
    return writer;
  }

  it('keeps the key and the set columns of an UPDATE, every row of a TRUNCATE, the key and column of a type change', async () => {
    const knex = db.knex();
    await applyBatches(knex, [['001_base.js'], ['002_reshape.js']], reshapeDir);
    await knex.destroy();
    await db.query(`
      INSERT INTO prices SELECT 'sku' || i, i * 1.2345, 'label ' || i FROM generate_series(1, 20) i;
      INSERT INTO scratch SELECT i, repeat('x', i) FROM generate_series(1, 7) i;`);
    const prices = await checksum(db, 'prices', 'sku');
    const scratch = await checksum(db, 'scratch', 'id');
    const result = await runRollback(preservingOptions(db.url, reshapeDir));
    const copies = result.preservation!.kept!.copies;
    expect(copies.map((copy) => [copy.kind, copy.source, copy.keyColumns, copy.columns, copy.rows])).toEqual([
      ['update', 'public.prices', ['sku'], ['label'], 12],
      ['truncate', 'public.scratch', ['id'], ['id', 'payload'], 7],
      ['alter-type', 'public.prices', ['sku'], ['amount'], 20],
    ]);
    // The UPDATE's own WHERE selected the copy's rows, before it ran.
    const updated = await db.query<{ sku: string; label: string }>(
      `SELECT * FROM rollback_preserved."${copies[0].copy}" ORDER BY sku`,
    );
    expect(updated.every((row) => /^label \d+$/.test(row.label))).toBe(true);

    // The fix: the wider type back (the reshape's up() is empty, so the test plays it).
    await db.query('ALTER TABLE prices ALTER COLUMN amount TYPE numeric(12,4)');
    const restored = await runRollback(
      preservingOptions(db.url, reshapeDir, {
        mode: 'restore-data',
        preserve: { enabled: true, maxBytes: 0, schema: 'rollback_preserved', id: result.preservation!.kept!.id },
      }),
    );
    expect(restored.preservation?.restored?.copies.map((copy) => [copy.kind, copy.restored])).toEqual([
      ['update', 12],
      ['truncate', 7],
      ['alter-type', 20],
    ]);
    expect(await checksum(db, 'prices', 'sku')).toBe(prices);
    expect(await checksum(db, 'scratch', 'id')).toBe(scratch);
  });

  it('keeps columns of a type the down() drops as text, so the drop succeeds, and casts them back on restore', async () => {
    const knex = db.knex();
    await applyBatches(knex, [['001_base.js'], ['002_case_state.js']], typedDir);
    await knex.destroy();
    await db.query(`
      INSERT INTO cases (title, state) SELECT 'case ' || i, (ARRAY['open', 'waiting', 'closed'])[1 + i % 3]::case_state FROM generate_series(1, 9) i;
      INSERT INTO case_history (case_id, path) SELECT i, ARRAY['open', 'closed']::case_state[] FROM generate_series(1, 4) i;`);
    const before = [await checksum(db, 'cases', 'id'), await checksum(db, 'case_history', 'id')];
    const result = await runRollback(preservingOptions(db.url, typedDir));
    expect(result.committed).toBe(true);
    const [type] = await db.query<{ found: boolean }>("SELECT to_regtype('case_state') IS NOT NULL AS found");
    expect(type.found).toBe(false);
    const knex2 = db.knex();
    await applyBatches(knex2, [['001_base.js', '002_case_state.js']], typedDir);
    await knex2.destroy();
    const restored = await runRollback(
      preservingOptions(db.url, typedDir, {
        mode: 'restore-data',
        preserve: { enabled: true, maxBytes: 0, schema: 'rollback_preserved', id: result.preservation!.kept!.id },
      }),
    );
    expect(restored.preservation?.restored?.copies.map((copy) => [copy.kind, copy.restored])).toEqual([
      ['drop-table', 4],
      ['drop-column', 6],
    ]);
    expect([await checksum(db, 'cases', 'id'), await checksum(db, 'case_history', 'id')]).toEqual(before);
  });

  it("waits for the copy's lock in short attempts, and after lock-wait-budget fails having changed nothing", async () => {
    const writer = await ordersWithOpenWrite("('web', 3)");
    try {
      const attempt = runRollback(
        preservingOptions(db.url, concurrentDir, { lockTimeoutMs: 200, lockWaitBudgetMs: 1200 }),
      );
      // The copy's LOCK TABLE timing out is a lock wait like any other: retried, not a refusal.
      const failure = await attempt.then(
        () => undefined,
        (error: Error) => error,
      );
      expect(failure?.message).toMatch(/not free within lock-wait-budget \(1\.2s\): ([2-9]|\d\d+) attempt\(s\)/);
      // The writer is named: a sample caught the copy's LOCK TABLE waiting on it.
      expect(failure?.message).toMatch(
        /Blocked by: pid \d+[^"]*"[^"]*"[^"]*query "INSERT INTO orders \(kind, total\) VALUES \('web', 3\)"/,
      );
      expect(failure?.message).toMatch(/Nothing was changed/);
      await writer.query('COMMIT');
      const left = await db.query<{ total: number }>('SELECT total FROM orders ORDER BY total');
      expect(left.map((row) => row.total)).toEqual([1, 2, 3]);
    } finally {
      await writer.end();
    }
  });

  it("retries when a writer holds the table past the copy's lock timeout, and keeps that writer's rows too", async () => {
    // A write transaction that lasts several of the rollback's lock timeouts, then commits.
    const writer = await ordersWithOpenWrite("('import', 3)");
    try {
      const logger = recordingLogger();
      const run = runRollback(
        preservingOptions(db.url, concurrentDir, { lockTimeoutMs: 200, lockWaitBudgetMs: 30_000, logger }),
      );
      await afterLockTimeouts(logger, 2);
      await writer.query('COMMIT');
      const result = await run;
      expect(result.committed).toBe(true);
      const attempts = result.attempts ?? [];
      expect(attempts.length).toBeGreaterThan(1);
      expect(attempts.slice(0, -1).every((record) => /LOCK TABLE|DELETE FROM orders/.test(record.waitedAt ?? ''))).toBe(
        true,
      );
      const copy = result.preservation!.kept!.copies[0];
      const kept = await db.query<{ total: number }>(
        `SELECT total FROM rollback_preserved."${copy.copy}" ORDER BY total`,
      );
      // One copy (the failed attempts' copies were rolled back with them), with the writer's row.
      expect(result.preservation!.kept!.copies).toHaveLength(1);
      expect(kept.map((row) => row.total)).toEqual([1, 3]);
      const left = await db.query<{ total: number }>('SELECT total FROM orders ORDER BY total');
      expect(left.map((row) => row.total)).toEqual([2]);
    } finally {
      await writer.end();
    }
  });

  it('makes concurrent writes wait for the copy and the rollback, and loses none of them', async () => {
    const knex = db.knex();
    await applyBatches(knex, [['001_base.js'], ['002_imported_orders.js']], concurrentDir);
    await knex.destroy();
    await db.query(
      "INSERT INTO orders (kind, total) SELECT CASE WHEN i % 2 = 0 THEN 'import' ELSE 'web' END, i FROM generate_series(1, 10) i",
    );
    const writer = new pg.Client({ connectionString: db.url });
    const gate = new pg.Client({ connectionString: db.url });
    await Promise.all([writer.connect(), gate.connect()]);
    try {
      await gate.query('SELECT pg_advisory_lock(4242)');
      // A writer in the middle of its transaction when the rollback starts: the copy waits for it, then sees its row.
      await writer.query('BEGIN');
      await writer.query("INSERT INTO orders (kind, total) VALUES ('import', 1000)");
      const run = runRollback(preservingOptions(db.url, concurrentDir, { lockTimeoutMs: 60_000 }));
      const waiting = (query: string) => async () =>
        (
          await db.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
            [query],
          )
        )[0].n === '1';
      await until(waiting('LOCK TABLE%'));
      await writer.query('COMMIT');
      // Now the rollback holds the lock and waits on the gate: a new write waits for its commit.
      await until(
        async () =>
          (
            await db.query<{ n: string }>(
              "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT pg_advisory_xact_lock%'",
            )
          )[0].n === '1',
      );
      const late = writer.query("INSERT INTO orders (kind, total) VALUES ('import', 2000)");
      await until(waiting('INSERT INTO orders%'));
      await gate.query('SELECT pg_advisory_unlock(4242)');
      const result = await run;
      await late;
      const copy = result.preservation!.kept!.copies[0];
      const kept = await db.query<{ total: number }>(
        `SELECT total FROM rollback_preserved."${copy.copy}" ORDER BY total`,
      );
      expect(kept.map((row) => row.total)).toEqual([2, 4, 6, 8, 10, 1000]);
      // The late write waited, then landed after the rollback: it is in the table, not lost.
      const left = await db.query<{ total: number }>("SELECT total FROM orders WHERE kind = 'import'");
      expect(left.map((row) => row.total)).toEqual([2000]);
    } finally {
      await Promise.all([writer.end(), gate.end()]);
    }
  });
});
