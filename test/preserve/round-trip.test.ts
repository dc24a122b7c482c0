import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { runRollback, RollbackFailure } from '../../src/migrations/rollback.js';
import { applyBatches } from '../rollback/helpers.js';
import { checksum, preserveDir, preservingOptions } from './helpers.js';

const BASE = ['001_base.js'];
const FEATURE = ['002_notes_and_audit.js'];

describe('keeping what a rollback destroys and putting it back', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createDatabase('preserve_round_trip');
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    await db.query(
      'DROP SCHEMA IF EXISTS rollback_preserved CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public',
    );
    const knex = db.knex();
    await applyBatches(knex, [BASE, FEATURE], preserveDir);
    await knex.destroy();
    // Written after the deploy: notes, audit rows, imported tickets, feature events.
    await db.query(`
      INSERT INTO tickets (title, source, note) SELECT 'web ' || i, 'web', CASE WHEN i % 3 = 0 THEN NULL ELSE 'note ' || i END FROM generate_series(1, 40) i;
      INSERT INTO tickets (title, source, note) SELECT 'import ' || i, 'import', 'imported ' || i FROM generate_series(1, 15) i;
      INSERT INTO audit (ticket_id, action) SELECT i, 'viewed ' || i FROM generate_series(1, 25) i;
      INSERT INTO events (label, at) SELECT CASE WHEN i % 2 = 0 THEN 'feature' ELSE 'core' END, i FROM generate_series(1, 10) i;`);
  });

  async function reapply(): Promise<void> {
    const knex = db.knex();
    await applyBatches(knex, [[...BASE, ...FEATURE]], preserveDir);
    await knex.destroy();
  }

  it('rolls back, re-applies, restores every value, and a second restore changes nothing', async () => {
    const before = {
      tickets: await checksum(db, 'tickets', 'id'),
      audit: await checksum(db, 'audit', 'id'),
    };
    const result = await runRollback(preservingOptions(db.url, preserveDir));
    expect(result.committed).toBe(true);
    const kept = result.preservation?.kept;
    expect(kept?.id).toMatch(/^rb\d{12}_[0-9a-f]{6}$/);
    expect(kept?.copies.map((copy) => [copy.kind, copy.source, copy.rows, copy.keyColumns])).toEqual([
      ['delete', 'public.tickets', 15, ['id']],
      ['delete', 'public.events', 5, []],
      ['drop-table', 'public.audit', 25, ['id']],
      ['drop-column', 'public.tickets', 40, ['id']],
    ]);
    expect(kept?.copies.every((copy) => copy.bytes > 0 && copy.copy.startsWith(kept.id))).toBe(true);
    // The copies and the catalog are committed with the rollback.
    const catalog = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM rollback_preserved.catalog WHERE preserve_id = $1',
      [kept!.id],
    );
    expect(catalog[0].n).toBe('4');

    await reapply();
    const restore = preservingOptions(db.url, preserveDir, {
      mode: 'restore-data',
      preserve: { enabled: true, maxBytes: 0, schema: 'rollback_preserved', id: kept!.id },
    });
    const first = await runRollback(restore);
    expect(
      first.preservation?.restored?.copies.map((copy) => [copy.source, copy.kind, copy.restored, copy.skipped]),
    ).toEqual([
      ['public.tickets', 'delete', 15, 0],
      ['public.events', 'delete', 0, 5],
      ['public.audit', 'drop-table', 25, 0],
      ['public.tickets', 'drop-column', 27, 13],
    ]);
    expect(first.preservation?.restored?.copies[1].note).toMatch(/restore them by hand/);
    expect(await checksum(db, 'tickets', 'id')).toBe(before.tickets);
    expect(await checksum(db, 'audit', 'id')).toBe(before.audit);
    // Sequences moved past the restored keys: the next row does not collide.
    expect(first.preservation?.restored?.sequences.join()).toMatch(/audit_id_seq -> 25/);
    await db.query("INSERT INTO audit (ticket_id, action) VALUES (1, 'after')");

    const second = await runRollback(restore);
    expect(second.preservation?.restored?.copies.map((copy) => copy.restored)).toEqual([0, 0, 0, 0]);
    expect(await checksum(db, 'tickets', 'id')).toBe(before.tickets);
  });

  it('keeps a table without a key as whole rows, for a human to restore', async () => {
    const result = await runRollback(preservingOptions(db.url, preserveDir));
    const events = result.preservation?.kept?.copies.find((copy) => copy.source === 'public.events');
    expect(events?.keyColumns).toEqual([]);
    const rows = await db.query<{ label: string; at: number }>(
      `SELECT label, at FROM rollback_preserved."${events!.copy}" ORDER BY at`,
    );
    expect(rows).toEqual([2, 4, 6, 8, 10].map((at) => ({ label: 'feature', at })));
  });

  it('closes the copies and the catalog: no PUBLIC privilege, row-level security on', async () => {
    const result = await runRollback(preservingOptions(db.url, preserveDir));
    const tables = await db.query<{ relname: string; rls: boolean; acl: string | null }>(
      `SELECT c.relname, c.relrowsecurity AS rls, c.relacl::text AS acl FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'rollback_preserved' AND c.relkind = 'r'`,
    );
    expect(tables.map((table) => table.relname).sort()).toEqual(
      ['catalog', ...result.preservation!.kept!.copies.map((copy) => copy.copy)].sort(),
    );
    for (const table of tables) {
      expect(table.rls).toBe(true);
      // An ACL entry for PUBLIC is written "=..." (no grantee name).
      expect(table.acl ?? '').not.toMatch(/(^|[{,])=/);
    }
    const [publicAccess] = await db.query<{ reads: boolean; usage: boolean }>(
      `SELECT bool_or(has_table_privilege('public', c.oid, 'SELECT')) AS reads,
              has_schema_privilege('public', 'rollback_preserved', 'USAGE') AS usage
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'rollback_preserved'`,
    );
    expect(publicAccess).toEqual({ reads: false, usage: false });
  });

  it('refuses restore-data before the re-apply, naming the migration, and changes nothing', async () => {
    const result = await runRollback(preservingOptions(db.url, preserveDir));
    const id = result.preservation!.kept!.id;
    const tickets = await checksum(db, 'tickets', 'id');
    const attempt = runRollback(
      preservingOptions(db.url, preserveDir, {
        mode: 'restore-data',
        preserve: { enabled: true, maxBytes: 0, schema: 'rollback_preserved', id },
      }),
    );
    await expect(attempt).rejects.toThrow(
      /public\.tickets has no column note\. Re-apply migration 002_notes_and_audit\.js .* Nothing was changed/,
    );
    expect(await checksum(db, 'tickets', 'id')).toBe(tickets);
  });

  it('refuses over preserve-data-max before destroying anything, naming the estimate and both ways forward', async () => {
    const tickets = await checksum(db, 'tickets', 'id');
    const attempt = runRollback(
      preservingOptions(db.url, preserveDir, {
        preserve: { enabled: true, maxBytes: 100, schema: 'rollback_preserved' },
      }),
    );
    await expect(attempt).rejects.toThrow(RollbackFailure);
    await expect(attempt).rejects.toThrow(
      /over preserve-data-max \(100 bytes\)[\s\S]*raise preserve-data-max to at least [\d.]+ (kB|bytes)[\s\S]*preserve-data: false[\s\S]*Nothing was changed/,
    );
    expect(await checksum(db, 'tickets', 'id')).toBe(tickets);
    const [applied] = await db.query<{ n: string }>(
      "SELECT count(*) AS n FROM knex_migrations WHERE name = '002_notes_and_audit.js'",
    );
    expect(applied.n).toBe('1');
    const [schema] = await db.query<{ found: boolean }>(
      "SELECT to_regnamespace('rollback_preserved') IS NOT NULL AS found",
    );
    expect(schema.found).toBe(false);
  });

  it('a dry run reports what would be kept and its estimated size, and copies nothing', async () => {
    const result = await runRollback(preservingOptions(db.url, preserveDir, { dryRun: true }));
    const kept = result.preservation?.kept;
    expect(kept?.copies.map((copy) => [copy.kind, copy.source, copy.copy, copy.estimated])).toEqual([
      ['delete', 'public.tickets', '', true],
      ['delete', 'public.events', '', true],
      ['drop-table', 'public.audit', '', true],
      ['drop-column', 'public.tickets', '', true],
    ]);
    expect(kept!.estimatedBytes).toBeGreaterThan(0);
    const [schema] = await db.query<{ found: boolean }>(
      "SELECT to_regnamespace('rollback_preserved') IS NOT NULL AS found",
    );
    expect(schema.found).toBe(false);
  });

  it('prune-data drops the copies older than asked, lists them, and keeps the newer ones', async () => {
    const first = await runRollback(preservingOptions(db.url, preserveDir));
    const old = first.preservation!.kept!;
    await db.query("UPDATE rollback_preserved.catalog SET created_at = now() - interval '40 days'");
    await reapply();
    const second = await runRollback(preservingOptions(db.url, preserveDir));
    const recent = second.preservation!.kept!;
    const prune = (dryRun: boolean) =>
      runRollback(
        preservingOptions(db.url, preserveDir, {
          mode: 'prune-data',
          dryRun,
          preserve: { enabled: true, maxBytes: 0, schema: 'rollback_preserved', olderThanMs: 30 * 86_400_000 },
        }),
      );
    const listed = await prune(true);
    expect(listed.preservation?.pruned?.dropped.map((copy) => copy.copy)).toEqual(old.copies.map((copy) => copy.copy));
    const pruned = await prune(false);
    expect(pruned.preservation?.pruned?.dropped.map((copy) => copy.copy)).toEqual(old.copies.map((copy) => copy.copy));
    const left = await db.query<{ relname: string }>(
      "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'rollback_preserved' AND relkind = 'r' ORDER BY relname",
    );
    const made = recent.copies.filter((copy) => copy.copy !== '');
    expect(left.map((row) => row.relname)).toEqual(['catalog', ...made.map((copy) => copy.copy)].sort());
    const [catalog] = await db.query<{ ids: string[] }>(
      'SELECT array_agg(DISTINCT preserve_id) AS ids FROM rollback_preserved.catalog',
    );
    expect(catalog.ids).toEqual([recent.id]);
  });
});
