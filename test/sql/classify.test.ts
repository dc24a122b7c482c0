import { classifyEach, classifyStatements, type ClassifiedStatement } from '../../src/sql/classify.js';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { FileMigrationSource, listMigrationFiles } from '../../src/migrations/source.js';
import { migrateTicketService, ticketServiceMigrations } from '../helpers/ticket-service.js';

const bookkeepingTables = ['public.knex_migrations', 'public.knex_migrations_lock'];

async function classifyOne(sql: string): Promise<ClassifiedStatement> {
  const results = await classifyStatements([sql], { bookkeepingTables });
  expect(results).toHaveLength(1);
  return results[0];
}

async function riskOf(sql: string): Promise<string> {
  return (await classifyOne(sql)).risk;
}

describe('classifyStatements', () => {
  describe('data-destroying statements', () => {
    it.each([
      ['DROP TABLE tickets', 'drops table public.tickets and all its rows'],
      ['DROP TABLE IF EXISTS audit.events', 'drops table audit.events and all its rows'],
      ['DROP SCHEMA audit', 'drops schema audit'],
      ['DROP TYPE IF EXISTS ticket_state', 'drops type public.ticket_state, and with it any value stored as that type'],
      ['DROP DOMAIN email_address', 'drops domain public.email_address, and with it any value stored as that type'],
      [
        'ALTER TABLE tickets DROP COLUMN IF EXISTS sync_attempts',
        'drops column public.tickets.sync_attempts and all its values',
      ],
      ['TRUNCATE tickets', 'empties table public.tickets (TRUNCATE removes all its rows)'],
      ["DELETE FROM tickets WHERE state = 'revoked'", 'deletes rows from public.tickets'],
      ['DELETE FROM tickets', 'deletes rows from public.tickets: every row, there is no WHERE clause'],
      [
        "UPDATE tickets SET state = 'active', note = NULL WHERE id = 1",
        'overwrites columns state, note of public.tickets',
      ],
      [
        'UPDATE tickets SET state = 1',
        'overwrites column state of public.tickets in every row, there is no WHERE clause',
      ],
      [
        'ALTER TABLE tickets ALTER COLUMN price TYPE numeric(12,2) USING price::numeric',
        'changes the type of column public.tickets.price to numeric(12,2), rewriting every value (values can be truncated or fail to convert)',
      ],
      [
        'ALTER TABLE tickets ALTER COLUMN code SET DATA TYPE varchar(20)',
        'changes the type of column public.tickets.code to varchar(20), rewriting every value (values can be truncated or fail to convert)',
      ],
      ['DROP DATABASE ticket_service', 'drops database ticket_service and everything in it'],
      ['DROP OWNED BY legacy_app', 'drops every object owned by legacy_app, with its data'],
      [
        'INSERT INTO tickets (id, state) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET state = 2',
        'overwrites existing rows of public.tickets (INSERT ... ON CONFLICT DO UPDATE)',
      ],
      [
        'MERGE INTO tickets t USING incoming i ON t.id = i.id WHEN MATCHED THEN DELETE',
        'deletes rows from public.tickets (MERGE ... THEN DELETE)',
      ],
    ])('%s is destructive: %s', async (sql, reason) => {
      expect(await classifyOne(sql)).toEqual({ sql, risk: 'destructive', reasons: [reason] });
    });

    it('lists every table of a DROP naming several', async () => {
      const result = await classifyOne('DROP TABLE a, s.b');
      expect(result.reasons).toEqual(['drops table public.a and all its rows', 'drops table s.b and all its rows']);
    });

    it('finds a DELETE hidden in a CTE of a SELECT', async () => {
      const result = await classifyOne(
        'WITH gone AS (DELETE FROM tickets WHERE id = 1 RETURNING id) SELECT count(*) FROM gone',
      );
      expect(result.risk).toBe('destructive');
      expect(result.reasons).toEqual(['deletes rows from public.tickets']);
    });

    it('does not take a DROP inside a string literal or a comment for one', async () => {
      expect(await riskOf("SELECT 'DROP TABLE tickets' AS text -- DROP TABLE tickets")).toBe('safe');
      expect(await riskOf("COMMENT ON TABLE tickets IS 'never DROP TABLE this'")).toBe('safe');
    });

    it('does not count defining a SQL function whose body deletes as deleting', async () => {
      const sql = 'CREATE FUNCTION purge() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM tickets; END';
      expect(await classifyStatements([sql])).toEqual([{ sql, risk: 'safe', reasons: [] }]);
    });
  });

  describe('CASCADE', () => {
    it('makes a drop that is otherwise a warning destructive, naming what it reaches from', async () => {
      const result = await classifyOne('DROP VIEW active_tickets CASCADE');
      expect(result.risk).toBe('destructive');
      expect(result.reasons).toEqual([
        'drops view public.active_tickets',
        'uses CASCADE: also drops whatever depends on public.active_tickets (views, foreign keys, policies, columns of other tables), without naming it',
      ]);
    });

    it('is reported on DROP TABLE, DROP COLUMN, DROP CONSTRAINT, TRUNCATE and REVOKE', async () => {
      const results = await classifyStatements(
        [
          'DROP TABLE tickets CASCADE',
          'ALTER TABLE tickets DROP COLUMN owner_id CASCADE',
          'ALTER TABLE tickets DROP CONSTRAINT tickets_owner_fk CASCADE',
          'TRUNCATE tickets CASCADE',
          'REVOKE SELECT ON tickets FROM reporting CASCADE',
        ],
        { bookkeepingTables },
      );
      expect(results.map((result) => result.risk)).toEqual([
        'destructive',
        'destructive',
        'destructive',
        'destructive',
        'destructive',
      ]);
      for (const result of results)
        expect(result.reasons.some((reason) => reason.startsWith('uses CASCADE: '))).toBe(true);
      expect(results[3].reasons).toContain(
        'uses CASCADE: also empties every table with a foreign key to public.tickets',
      );
    });

    it('is destructive even on a statement with no rule of its own', async () => {
      const result = await classifyOne('DROP OWNED BY legacy_app CASCADE');
      expect(result.risk).toBe('destructive');
      expect(result.reasons).toContain('uses CASCADE, which also removes whatever depends on the objects it changes');
    });
  });

  describe('security-removing statements', () => {
    it.each([
      [
        'DROP POLICY IF EXISTS tickets_tenant_isolation ON tickets',
        'drops row-level security policy tickets_tenant_isolation on public.tickets: the rows it protected are no longer filtered by it',
      ],
      [
        'ALTER TABLE tickets DISABLE ROW LEVEL SECURITY',
        'disables row-level security on public.tickets: its policies no longer restrict any row',
      ],
      [
        'ALTER TABLE tickets NO FORCE ROW LEVEL SECURITY',
        'stops forcing row-level security on public.tickets: the table owner bypasses its policies again',
      ],
      [
        'REVOKE SELECT, INSERT ON tickets FROM app_user',
        'revokes SELECT, INSERT on table public.tickets from app_user',
      ],
      ['REVOKE ALL ON TABLE tickets FROM PUBLIC', 'revokes ALL PRIVILEGES on table public.tickets from PUBLIC'],
      [
        'REVOKE GRANT OPTION FOR UPDATE (state) ON tickets FROM lead',
        'revokes the grant option for UPDATE (state) on table public.tickets from lead',
      ],
      [
        'REVOKE EXECUTE ON FUNCTION verify_role(uuid) FROM app_user',
        'revokes EXECUTE on function public.verify_role(uuid) from app_user',
      ],
      ['REVOKE USAGE ON SCHEMA audit FROM app_user', 'revokes USAGE on schema audit from app_user'],
      [
        'REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM reporting',
        'revokes SELECT on all tables in schema public from reporting',
      ],
      ['REVOKE admin FROM alice', 'revokes membership in role admin from alice'],
      [
        'ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM reporting',
        'revokes SELECT on tables from reporting, as a default for objects created from now on',
      ],
      ['DROP ROLE IF EXISTS legacy_app', 'drops role legacy_app'],
    ])('%s is security: %s', async (sql, reason) => {
      expect(await classifyOne(sql)).toEqual({ sql, risk: 'security', reasons: [reason] });
    });

    it('ranks a statement that is both destructive and security-removing as destructive, keeping both reasons', async () => {
      const result = await classifyOne('ALTER TABLE tickets DISABLE ROW LEVEL SECURITY, DROP COLUMN tenant_id');
      expect(result.risk).toBe('destructive');
      expect(result.reasons).toEqual([
        'disables row-level security on public.tickets: its policies no longer restrict any row',
        'drops column public.tickets.tenant_id and all its values',
      ]);
    });

    it('leaves ENABLE and FORCE ROW LEVEL SECURITY and a restrictive policy safe', async () => {
      const results = await classifyStatements([
        'ALTER TABLE tickets ENABLE ROW LEVEL SECURITY; ALTER TABLE tickets FORCE ROW LEVEL SECURITY; CREATE POLICY p ON tickets AS RESTRICTIVE USING (tenant_id = 1)',
      ]);
      expect(results.map((result) => result.risk)).toEqual(['safe', 'safe', 'safe']);
    });

    it.each([
      [
        'GRANT ALL ON accounts TO PUBLIC',
        'grants ALL PRIVILEGES on table public.accounts to PUBLIC, widening who can reach it',
      ],
      [
        'GRANT SELECT ON tickets TO app_user',
        'grants SELECT on table public.tickets to app_user, widening who can reach it',
      ],
      ['GRANT admin TO alice', 'grants membership in role admin to alice, with its privileges'],
      [
        'ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC',
        'grants SELECT on tables to PUBLIC, widening who can reach it, as a default for objects created from now on',
      ],
      [
        'CREATE POLICY open ON accounts USING (true)',
        'creates permissive row-level security policy open on public.accounts for PUBLIC: every row it lets through becomes visible, whatever the other policies say',
      ],
      [
        'ALTER POLICY tickets_tenant_isolation ON tickets USING (true)',
        'changes row-level security policy tickets_tenant_isolation on public.tickets, which can widen which rows it lets through',
      ],
      ['ALTER ROLE app_user SUPERUSER', 'changes role app_user (its attributes or password)'],
      [
        'SET session_replication_role = replica',
        'sets session_replication_role, which turns off foreign keys, triggers and rules for the session',
      ],
      [
        'SET LOCAL session_replication_role = replica',
        'sets session_replication_role, which turns off foreign keys, triggers and rules for the session',
      ],
      ['SET ROLE admin', 'changes the role statements run as (SET ROLE)'],
      ['SET SESSION AUTHORIZATION alice', 'changes the session user (SET SESSION AUTHORIZATION)'],
      [
        'ALTER TABLE tickets DISABLE TRIGGER tickets_touch',
        'disables trigger tickets_touch on public.tickets: what it enforces or records stops',
      ],
      [
        'ALTER TABLE tickets DISABLE TRIGGER ALL',
        'disables the triggers on public.tickets: what they enforce or record stops',
      ],
      [
        'ALTER TABLE tickets DISABLE RULE protect',
        'disables rule protect on public.tickets: what it rewrites or enforces stops',
      ],
      [
        'CREATE RULE ignore_writes AS ON INSERT TO accounts DO INSTEAD NOTHING',
        'creates rule ignore_writes on public.accounts: rewrites what statements on the table do (DO INSTEAD replaces them)',
      ],
    ])('%s weakens security: %s', async (sql, reason) => {
      expect(await classifyOne(sql)).toMatchObject({ sql, risk: 'security', reasons: [reason] });
    });

    it.each([
      [
        'ALTER SEQUENCE accounts_id_seq RESTART',
        'restarts sequence public.accounts_id_seq: new rows can reuse values already handed out',
      ],
      ['TRUNCATE accounts', 'empties table public.accounts (TRUNCATE removes all its rows)'],
      [
        "COPY accounts FROM PROGRAM 'curl example.com'",
        'runs the program "curl example.com" on the database server (COPY ... PROGRAM)',
      ],
      ["LOAD 'auto_explain'", 'loads the library "auto_explain" into the server process'],
    ])('%s destroys data or cannot be checked: %s', async (sql, reason) => {
      expect(await classifyOne(sql)).toMatchObject({ sql, risk: 'destructive', reasons: [reason] });
    });

    it('marks what a ROLLBACK cannot undo, and lists the functions a statement calls but not those in a DEFAULT', async () => {
      expect((await classifyOne('ALTER SEQUENCE s RESTART')).effects?.irreversible).toEqual([
        'sequence changes are not undone by ROLLBACK',
      ]);
      expect((await classifyOne("SELECT setval('s', 1), pg_temp.tidy()")).effects?.calls).toEqual([
        ['setval'],
        ['pg_temp', 'tidy'],
      ]);
      const table = await classifyOne("CREATE TABLE t (id int DEFAULT nextval('s'), at timestamptz DEFAULT now())");
      expect(table.effects).toBeUndefined();
      expect(
        (await classifyOne('CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql')).effects,
      ).toEqual({
        replacesFunction: ['f'],
      });
    });
  });

  describe('warnings', () => {
    it.each([
      ['DROP INDEX IF EXISTS tickets_state_idx', 'drops index public.tickets_state_idx'],
      ['DROP INDEX CONCURRENTLY audit.events_at_idx', 'drops index audit.events_at_idx'],
      ['DROP VIEW active_tickets', 'drops view public.active_tickets'],
      [
        'DROP MATERIALIZED VIEW ticket_stats',
        'drops materialized view public.ticket_stats (its stored rows can be recomputed from the query)',
      ],
      ['DROP FUNCTION IF EXISTS touch_updated_at()', 'drops function public.touch_updated_at()'],
      ['DROP FUNCTION audit.log_change(integer, text)', 'drops function audit.log_change(integer, text)'],
      ['DROP FUNCTION touch_updated_at', 'drops function public.touch_updated_at'],
      ['DROP PROCEDURE archive_tickets(int)', 'drops procedure public.archive_tickets(integer)'],
      ['DROP TRIGGER tickets_touch ON tickets', 'drops trigger tickets_touch on public.tickets'],
      ['DROP SEQUENCE ticket_number_seq', 'drops sequence public.ticket_number_seq and its current value'],
      ['DROP EXTENSION IF EXISTS pgcrypto', 'drops extension pgcrypto'],
      ['DROP RULE protect ON tickets', 'drops rule protect on public.tickets'],
      ['ALTER TABLE tickets DROP CONSTRAINT tickets_owner_fk', 'drops constraint tickets_owner_fk on public.tickets'],
      ['DROP COLLATION german', 'drops collation public.german'],
    ])('%s is a warning: %s', async (sql, reason) => {
      expect(await classifyOne(sql)).toEqual({ sql, risk: 'warning', reasons: [reason] });
    });

    it('marks COMMIT as transaction control, for the guard to refuse', async () => {
      expect(await classifyOne('COMMIT')).toEqual({
        sql: 'COMMIT',
        risk: 'warning',
        reasons: ['commits the transaction: what ran before it can no longer be undone with the rest'],
        effects: { transactionControl: true },
      });
    });

    it('leaves savepoints safe but marks them, and BEGIN, as transaction control', async () => {
      const results = await classifyStatements([
        'BEGIN',
        'SAVEPOINT trx2',
        'RELEASE SAVEPOINT trx2',
        'ROLLBACK TO SAVEPOINT trx2',
      ]);
      expect(results.map((result) => result.risk)).toEqual(['safe', 'safe', 'safe', 'safe']);
      expect(results.every((result) => result.effects?.transactionControl)).toBe(true);
    });
  });

  describe('statements it cannot classify', () => {
    it('counts a DO block as destructive, with the reason', async () => {
      const sql = "DO $$ BEGIN EXECUTE 'DROP TABLE ' || 'tickets'; END $$";
      expect(await classifyOne(sql)).toMatchObject({
        sql,
        risk: 'destructive',
        reasons: ['runs a DO block: procedural code whose effect cannot be checked before it runs'],
        effects: { irreversible: [expect.stringContaining('ROLLBACK')] },
      });
    });

    it('counts CALL and EXECUTE as destructive', async () => {
      expect(await classifyOne('CALL archive_tickets(30)')).toMatchObject({
        sql: 'CALL archive_tickets(30)',
        risk: 'destructive',
        reasons: ['calls procedure public.archive_tickets, whose effect cannot be checked before it runs'],
      });
      expect((await classifyOne('EXECUTE purge_old(1)')).reasons).toEqual([
        'executes prepared statement purge_old, whose text is not here to check',
      ]);
    });

    it('counts text the parser rejects as destructive, naming the syntax error', async () => {
      expect(await classifyOne('DROP TABEL tickets')).toEqual({
        sql: 'DROP TABEL tickets',
        risk: 'destructive',
        reasons: [
          'could not be parsed as PostgreSQL (syntax error at or near "TABEL"), so what it does cannot be checked',
        ],
      });
    });

    it('counts an unterminated string as one destructive statement', async () => {
      const result = await classifyOne("SELECT 'never closed; DROP TABLE x");
      expect(result.risk).toBe('destructive');
      expect(result.reasons[0]).toMatch(/^could not be parsed as PostgreSQL \(unterminated quoted string/);
    });

    it('still classifies the readable neighbours of an unreadable statement', async () => {
      const results = await classifyStatements(
        ['CREATE TABLE a (id int); /* typo: */ DROP TABEL b; DROP INDEX c_idx'],
        { bookkeepingTables },
      );
      expect(results.map(({ sql, risk }) => ({ sql, risk }))).toEqual([
        { sql: 'CREATE TABLE a (id int)', risk: 'safe' },
        { sql: 'DROP TABEL b', risk: 'destructive' },
        { sql: 'DROP INDEX c_idx', risk: 'warning' },
      ]);
    });
  });

  describe('bookkeeping', () => {
    it.each([
      ['delete from "knex_migrations" where "name" = $1'],
      ['DELETE FROM public.knex_migrations'],
      ['update "knex_migrations_lock" set "is_locked" = $1 where "is_locked" = $2'],
      ['select * from "knex_migrations" order by "id" asc'],
      ['insert into "knex_migrations" ("batch", "migration_time", "name") values ($1, $2, $3)'],
      ['select * from "knex_migrations_lock" for update'],
      ['LOCK TABLE knex_migrations_lock IN EXCLUSIVE MODE'],
      [
        'create table "knex_migrations" ("id" serial primary key, "name" varchar(255), "batch" integer, "migration_time" timestamptz)',
      ],
      ['TRUNCATE knex_migrations_lock'],
      [
        'WITH applied AS (SELECT name FROM knex_migrations) DELETE FROM knex_migrations WHERE name IN (SELECT name FROM applied)',
      ],
    ])('%s touches only the bookkeeping tables', async (sql) => {
      const result = await classifyOne(sql);
      expect(result.risk).toBe('bookkeeping');
      expect(result.reasons[0]).toMatch(/^only touches the migration bookkeeping tables? public\.knex_migrations/);
    });

    it('takes the same table in another schema, or other tables, for what they are', async () => {
      expect(await riskOf('DELETE FROM audit.knex_migrations')).toBe('destructive');
      expect(await riskOf('DELETE FROM knex_migrations WHERE name IN (SELECT name FROM tickets)')).toBe('safe');
      expect(await riskOf('SELECT * FROM knex_migrations JOIN tickets ON true')).toBe('safe');
    });

    it('honours a schema-qualified bookkeeping table elsewhere than public', async () => {
      const [result] = await classifyStatements(['delete from "ops"."migrations" where "name" = $1'], {
        bookkeepingTables: ['ops.migrations'],
      });
      expect(result.risk).toBe('bookkeeping');
      const [unqualified] = await classifyStatements(['delete from migrations'], {
        bookkeepingTables: ['ops.migrations'],
      });
      expect(unqualified.risk).toBe('destructive');
    });

    it('does not excuse dropping the bookkeeping tables themselves', async () => {
      expect(await riskOf('DROP TABLE knex_migrations')).toBe('destructive');
    });

    it('is not used when no bookkeeping tables are given', async () => {
      const [result] = await classifyStatements(['delete from knex_migrations where name = $1']);
      expect(result.risk).toBe('destructive');
    });
  });

  describe('safe statements', () => {
    it.each([
      ['SELECT * FROM tickets WHERE id = $1'],
      ['SELECT 1'],
      ['CREATE TABLE tickets (id uuid PRIMARY KEY)'],
      ["CREATE TYPE ticket_state AS ENUM ('minted', 'active')"],
      ['CREATE INDEX CONCURRENTLY tickets_state_idx ON tickets (state)'],
      ['ALTER TABLE tickets ADD COLUMN note text'],
      ['INSERT INTO tickets (id) VALUES ($1)'],
      ["SET lock_timeout = '5s'"],
      ['ALTER TABLE tickets RENAME COLUMN note TO notes'],
    ])('%s is safe', async (sql) => {
      expect(await classifyOne(sql)).toEqual({ sql, risk: 'safe', reasons: [] });
    });
  });

  describe('splitting and placeholders', () => {
    it('returns one result per statement, with that statement’s own text from its first token', async () => {
      const results = await classifyStatements(
        [
          "  SELECT 'a;b' AS x;\n-- a comment; with a semicolon\nDROP TABLE tickets ;CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$",
          'DROP INDEX i',
        ],
        { bookkeepingTables },
      );
      expect(results.map(({ sql, risk }) => ({ sql, risk }))).toEqual([
        { sql: "SELECT 'a;b' AS x", risk: 'safe' },
        { sql: 'DROP TABLE tickets', risk: 'destructive' },
        { sql: 'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$', risk: 'safe' },
        { sql: 'DROP INDEX i', risk: 'warning' },
      ]);
    });

    it('keeps statement boundaries right after multi-byte characters', async () => {
      const results = await classifyStatements(["SELECT 'café ☕'; DROP TABLE straße"]);
      expect(results.map((result) => result.sql)).toEqual(["SELECT 'café ☕'", 'DROP TABLE straße']);
      expect(results[1].reasons).toEqual(['drops table public.straße and all its rows']);
    });

    it('keeps the results of each input apart with classifyEach', async () => {
      const each = await classifyEach(
        ['DROP TABLE a; DROP INDEX b', '', 'SELECT 1', 'DROP TABEL c; DELETE FROM knex_migrations'],
        { bookkeepingTables },
      );
      expect(each.map((results) => results.map((result) => result.risk))).toEqual([
        ['destructive', 'warning'],
        [],
        ['safe'],
        ['destructive', 'bookkeeping'],
      ]);
    });

    it('returns nothing for empty input or comments alone', async () => {
      expect(await classifyStatements(['', '   ', '-- nothing to see'])).toEqual([]);
    });

    it('parses $1-style placeholders, as the pg client sends them', async () => {
      const result = await classifyOne('UPDATE tickets SET state = $1 WHERE id = $2');
      expect(result.risk).toBe('destructive');
      expect(result.reasons).toEqual(['overwrites column state of public.tickets']);
    });

    it('parses ?-style placeholders, as Knex writes them before the pg client numbers them', async () => {
      const sql = 'delete from "knex_migrations" where "name" = ? and note <> \'?\'';
      expect(await classifyOne(sql)).toMatchObject({ sql, risk: 'bookkeeping' });
      const results = await classifyStatements(['SELECT ?; DELETE FROM tickets WHERE id = ?'], { bookkeepingTables });
      expect(results.map(({ sql: text, risk }) => ({ sql: text, risk }))).toEqual([
        { sql: 'SELECT ?', risk: 'safe' },
        { sql: 'DELETE FROM tickets WHERE id = ?', risk: 'destructive' },
      ]);
    });

    it('keeps the jsonb ? operator an operator when the statement parses as written', async () => {
      expect(await classifyOne("SELECT * FROM tickets WHERE metadata ? 'refund'")).toMatchObject({ risk: 'safe' });
    });
  });

  describe("the runbook's migration-specific rollbacks", () => {
    it('007: three tables dropped, each with its rows', async () => {
      const results = await classifyStatements([
        '-- Down migration\nDROP TABLE IF EXISTS failed_login_attempts;\nDROP TABLE IF EXISTS user_spending_limits;\nDROP TABLE IF EXISTS multisig_approvals;\n',
      ]);
      expect(results).toEqual([
        {
          sql: 'DROP TABLE IF EXISTS failed_login_attempts',
          risk: 'destructive',
          reasons: ['drops table public.failed_login_attempts and all its rows'],
        },
        {
          sql: 'DROP TABLE IF EXISTS user_spending_limits',
          risk: 'destructive',
          reasons: ['drops table public.user_spending_limits and all its rows'],
        },
        {
          sql: 'DROP TABLE IF EXISTS multisig_approvals',
          risk: 'destructive',
          reasons: ['drops table public.multisig_approvals and all its rows'],
        },
      ]);
    });

    it('006: columns, a table and two enum types, all destructive', async () => {
      const results = await classifyStatements([
        [
          'ALTER TABLE tickets DROP COLUMN IF EXISTS blockchain_sync_status;',
          'ALTER TABLE tickets DROP COLUMN IF EXISTS sync_attempts;',
          'ALTER TABLE tickets DROP COLUMN IF EXISTS last_sync_error;',
          'DROP TABLE IF EXISTS ticket_state_transitions;',
          'DROP TYPE IF EXISTS ticket_state;',
          'DROP TYPE IF EXISTS revocation_reason;',
        ].join('\n'),
      ]);
      expect(results.map((result) => result.risk)).toEqual(Array(6).fill('destructive'));
      expect(results.map((result) => result.reasons[0])).toEqual([
        'drops column public.tickets.blockchain_sync_status and all its values',
        'drops column public.tickets.sync_attempts and all its values',
        'drops column public.tickets.last_sync_error and all its values',
        'drops table public.ticket_state_transitions and all its rows',
        'drops type public.ticket_state, and with it any value stored as that type',
        'drops type public.revocation_reason, and with it any value stored as that type',
      ]);
    });

    it('004 ("CAUTION: Removes security"): both policy drops are security-removing', async () => {
      const results = await classifyStatements([
        '-- Down migration (CAUTION: Removes security)\n-- Only run if absolutely necessary\nDROP POLICY IF EXISTS tickets_tenant_isolation ON tickets;\nDROP POLICY IF EXISTS ticket_scans_tenant_isolation ON ticket_scans;',
      ]);
      expect(results.map((result) => result.risk)).toEqual(['security', 'security']);
      expect(results[1]).toEqual({
        sql: 'DROP POLICY IF EXISTS ticket_scans_tenant_isolation ON ticket_scans',
        risk: 'security',
        reasons: [
          'drops row-level security policy ticket_scans_tenant_isolation on public.ticket_scans: the rows it protected are no longer filtered by it',
        ],
      });
    });
  });

  describe('on what Knex really sends', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createDatabase('classify');
    });
    afterAll(async () => {
      await db.drop();
    });

    it("classifies every query of Knex's own rollback of the fixture's batch 2, down SQL and bookkeeping alike", async () => {
      const knex = db.knex();
      await migrateTicketService(knex);
      const sent: string[] = [];
      knex.on('query', (query: { sql: string }) => sent.push(query.sql));
      await knex.migrate.rollback({
        migrationSource: new FileMigrationSource(listMigrationFiles([ticketServiceMigrations])),
      });
      const results = await classifyStatements(sent, { bookkeepingTables });
      expect(results).toHaveLength(sent.length);
      const downs = results.filter((result) => result.risk === 'destructive');
      expect(downs.map((result) => result.sql)).toEqual([
        'DROP TABLE IF EXISTS failed_login_attempts',
        'DROP TABLE IF EXISTS user_spending_limits',
        'DROP TABLE IF EXISTS multisig_approvals',
        'ALTER TABLE tickets DROP COLUMN IF EXISTS blockchain_sync_status',
        'ALTER TABLE tickets DROP COLUMN IF EXISTS sync_attempts',
        'ALTER TABLE tickets DROP COLUMN IF EXISTS last_sync_error',
        'DROP TABLE IF EXISTS ticket_state_transitions',
        'DROP TYPE IF EXISTS ticket_state',
        'DROP TYPE IF EXISTS revocation_reason',
      ]);
      // Knex's plain rollback commits each migration on its own: a warning the rollback action avoids.
      const commits = results.filter((result) => result.sql === 'COMMIT');
      expect(commits.length).toBeGreaterThan(0);
      expect(commits.every((result) => result.risk === 'warning')).toBe(true);
      expect(results.filter((result) => result.risk === 'warning')).toEqual(commits);
      // Knex's own reads and writes of its tables (the lock, the rows it deletes) are bookkeeping.
      const deletes = results.filter((result) => /^delete from "knex_migrations"/.test(result.sql));
      expect(deletes).toHaveLength(2);
      expect(deletes.every((result) => result.risk === 'bookkeeping')).toBe(true);
      expect(
        results.some(
          (result) => result.sql.startsWith('update "knex_migrations_lock"') && result.risk === 'bookkeeping',
        ),
      ).toBe(true);
    });
  });
});
