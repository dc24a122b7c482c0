import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { BATCH_ONE, BATCH_TWO, migrateTicketService, ticketServiceDir } from '../helpers/ticket-service.js';
import { copyProject, failureOf, migrationRows, rollbackOptions, runRollback } from './helpers.js';

// The ticket service's migrations through the domain code, on real PostgreSQL.
describe('rollback on the ticket service', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createDatabase('rollback');
    const knex = db.knex();
    await migrateTicketService(knex);
    await knex.destroy();
  });
  afterEach(async () => db.drop());

  const tables = async (): Promise<string[]> =>
    (
      await db.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      )
    ).map((row) => row.table_name);

  it('reports status: applied with batches, nothing pending, the lock free', async () => {
    const result = await runRollback(rollbackOptions(db.url, { mode: 'status' }));
    expect(result.before!.applied.map((row) => [row.name, row.batch])).toEqual([
      ...BATCH_ONE.map((n) => [n, 1]),
      ...BATCH_TWO.map((n) => [n, 2]),
    ]);
    expect(result.before!.pending).toEqual([]);
    expect(result.before!.missingFiles).toEqual([]);
    expect(result.before!.lock).toMatchObject({ tableExists: true, isLocked: false, holders: [] });
  });

  it('plans the last batch newest first, changing nothing', async () => {
    const result = await runRollback(rollbackOptions(db.url, { mode: 'plan' }));
    expect(result.plan.map((m) => [m.name, m.batch, m.transaction])).toEqual([
      ['007_add_security_tables.ts', 2, true],
      ['006_add_ticket_state_machine.ts', 2, true],
    ]);
    expect(result.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(result.statements).toEqual([]);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(7);
  });

  it('dry-runs the downs in a rolled-back transaction and returns their exact SQL', async () => {
    const result = await runRollback(rollbackOptions(db.url, { mode: 'plan', dryRun: true, allowDestructive: true }));
    const sql = result.statements.map((s) => s.sql);
    expect(sql).toContain('DROP TABLE IF EXISTS failed_login_attempts');
    expect(sql).toContain('DROP TYPE IF EXISTS ticket_state');
    expect(result.statements.find((s) => s.sql === 'DROP TABLE IF EXISTS failed_login_attempts')).toMatchObject({
      migration: '007_add_security_tables.ts',
      risk: 'destructive',
    });
    // Knex's own bookkeeping is captured with its bindings written in.
    expect(
      sql.some((s) => /delete from "public"."knex_migrations" where "name" = '007_add_security_tables.ts'/.test(s)),
    ).toBe(true);
    expect(result.committed).toBe(false);
    expect(result.notes.join(' ')).toMatch(/rolled back.*same locks/s);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(7);
    expect(await tables()).toContain('failed_login_attempts');
  });

  it('fails a dry run without allow-destructive after its ROLLBACK, listing every statement the real run would refuse', async () => {
    const error = await failureOf(runRollback(rollbackOptions(db.url, { mode: 'plan', dryRun: true })));
    expect(error.message).toMatch(/^Dry run failed: the real run with these inputs would be refused/);
    const listed = error.message.split('\n').filter((line) => line.startsWith('- '));
    const blocked = error.result!.statements.filter((s) => s.risk === 'destructive' || s.risk === 'security');
    // Every one, from both migrations, not only the first: the real run stops at the first.
    expect(listed).toHaveLength(blocked.length);
    expect(blocked.length).toBeGreaterThan(1);
    expect(error.message).toContain('007_add_security_tables.ts: "DROP TABLE IF EXISTS failed_login_attempts"');
    expect(error.message).toContain('006_add_ticket_state_machine.ts: "DROP TYPE IF EXISTS ticket_state"');
    expect(error.message).toContain('re-dispatch with allow-destructive: true');
    expect(error.result!.plan.map((m) => m.name)).toEqual([
      '007_add_security_tables.ts',
      '006_add_ticket_state_machine.ts',
    ]);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(7);
    expect(await tables()).toContain('failed_login_attempts');
    expect((await db.query('SELECT is_locked FROM knex_migrations_lock'))[0].is_locked).toBe(0);
  });

  it('refuses the first destructive statement before it is sent, without allow-destructive, and changes nothing', async () => {
    const error = await failureOf(runRollback(rollbackOptions(db.url, { mode: 'rollback' })));
    expect(error.message).toMatch(/Refused.*allow-destructive is false.*not sent.*nothing was changed/s);
    expect(error.message).toContain(
      '007_add_security_tables.ts: "DROP TABLE IF EXISTS failed_login_attempts" (destructive',
    );
    const refused = error.result!.statements.filter((statement) => statement.outcome === 'refused');
    expect(refused.map((statement) => statement.sql)).toEqual(['DROP TABLE IF EXISTS failed_login_attempts']);
    // Nothing of 006 ran: the run stopped at the refusal.
    expect(
      error.result!.statements.some((statement) => statement.migration === '006_add_ticket_state_machine.ts'),
    ).toBe(false);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(7);
    expect(await tables()).toContain('ticket_state_transitions');
    expect((await db.query('SELECT is_locked FROM knex_migrations_lock'))[0].is_locked).toBe(0);
  });

  it('rolls back the last batch atomically with allow-destructive', async () => {
    const result = await runRollback(rollbackOptions(db.url, { mode: 'rollback', allowDestructive: true }));
    expect(result.rolledBack).toEqual(['007_add_security_tables.ts', '006_add_ticket_state_machine.ts']);
    expect(result.batches).toEqual([2]);
    expect(result.committed).toBe(true);
    expect(await migrationRows((sql) => db.query(sql))).toEqual(BATCH_ONE.map((name) => ({ name, batch: 1 })));
    expect(await tables()).not.toContain('failed_login_attempts');
    expect(result.after!.applied.map((row) => row.name)).toEqual(BATCH_ONE);
    expect(result.after!.pending).toEqual(BATCH_TWO);
    expect((await db.query('SELECT is_locked FROM knex_migrations_lock'))[0].is_locked).toBe(0);
  });

  it('runs every down() directly on the one transaction: no savepoint per migration', async () => {
    // Knex's Migrator wraps each down() in a transaction of its own, a SAVEPOINT inside ours,
    // unless told not to: two round trips per migration that protect nothing here.
    const sent: string[] = [];
    // Taken by descriptor: the method is re-bound to each client by the wrapper below.
    const original = Object.getOwnPropertyDescriptor(pg.Client.prototype, 'query')!
      .value as typeof pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const first = args[0];
      sent.push(typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? ''));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      const result = await runRollback(
        rollbackOptions(db.url, { mode: 'rollback', request: { kind: 'steps', steps: 2 }, allowDestructive: true }),
      );
      expect(result.rolledBack).toHaveLength(7);
    } finally {
      pg.Client.prototype.query = original;
    }
    expect(sent.some((sql) => /DROP TABLE IF EXISTS failed_login_attempts/.test(sql))).toBe(true);
    // Knex's lock-row helper still takes one per batch; the seven downs take none.
    expect(sent.filter((sql) => /^\s*SAVEPOINT/i.test(sql)).length).toBeLessThanOrEqual(2);
  });

  it('rolls back two batches with steps: 2, batch by batch', async () => {
    const result = await runRollback(
      rollbackOptions(db.url, { mode: 'rollback', request: { kind: 'steps', steps: 2 }, allowDestructive: true }),
    );
    expect(result.rolledBack).toEqual([...BATCH_TWO].reverse().concat([...BATCH_ONE].reverse()));
    expect(result.batches).toEqual([2, 1]);
    expect(await migrationRows((sql) => db.query(sql))).toEqual([]);
  });

  it('undoes everything applied after `to`, in the order applied, keeping `to` applied', async () => {
    const result = await runRollback(
      rollbackOptions(db.url, {
        mode: 'rollback',
        request: { kind: 'to', to: '003_add_blockchain_tracking.ts' },
        allowDestructive: true,
      }),
    );
    expect(result.rolledBack).toEqual([
      '007_add_security_tables.ts',
      '006_add_ticket_state_machine.ts',
      '005_add_idempotency_keys.ts',
      '004_add_rls_role_verification.ts',
    ]);
    // Batch 1 is only partly undone: it is not reported as a batch undone.
    expect(result.batches).toEqual([2]);
    expect((await migrationRows((sql) => db.query(sql))).map((row) => row.name)).toEqual(BATCH_ONE.slice(0, 3));
  });

  it('refuses mode down of 004 as security-removing, then runs it with allow-destructive and warns about later migrations', async () => {
    const refused = await failureOf(
      runRollback(
        rollbackOptions(db.url, {
          mode: 'down',
          request: { kind: 'down', migration: '004_add_rls_role_verification.ts' },
        }),
      ),
    );
    expect(refused.message).toMatch(/DROP POLICY IF EXISTS tickets_tenant_isolation ON tickets" \(security/);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(7);
    const result = await runRollback(
      rollbackOptions(db.url, {
        mode: 'down',
        request: { kind: 'down', migration: '004_add_rls_role_verification.ts' },
        allowDestructive: true,
      }),
    );
    expect(result.rolledBack).toEqual(['004_add_rls_role_verification.ts']);
    expect(result.warnings.join(' ')).toMatch(
      /not the newest applied migration: 007_add_security_tables.ts, 006_add_ticket_state_machine.ts, 005_add_idempotency_keys.ts were applied after it/,
    );
    expect((await migrationRows((sql) => db.query(sql))).map((row) => row.name)).not.toContain(
      '004_add_rls_role_verification.ts',
    );
    expect(await db.query("SELECT policyname FROM pg_policies WHERE tablename = 'tickets'")).toEqual([]);
  });

  it('refuses a plan whose fingerprint changed since it was reviewed: a migration applied in between', async () => {
    // Plan against 001-005, then the bad deploy (006, 007) lands before the run.
    await runRollback(rollbackOptions(db.url, { mode: 'rollback', allowDestructive: true }));
    const { fingerprint, plan } = await runRollback(rollbackOptions(db.url, { mode: 'plan' }));
    expect(plan.map((m) => m.name)).toEqual([...BATCH_ONE].reverse());
    const knex = db.knex();
    await migrateTicketService(knex);
    await knex.destroy();
    const error = await failureOf(
      runRollback(rollbackOptions(db.url, { mode: 'rollback', allowDestructive: true, expectedPlan: fingerprint })),
    );
    expect(error.message).toMatch(
      /Input "expected-plan" is [0-9a-f]{64}, but what this run would undo now has fingerprint [0-9a-f]{64}.*Nothing was changed/s,
    );
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(7);
    expect(await tables()).toContain('failed_login_attempts');
  });

  it('refuses a plan whose migration file was edited since it was reviewed', async () => {
    const project = copyProject(ticketServiceDir);
    const directories = [path.join(project, 'migrations')];
    const settings = {
      directories,
      tableName: 'knex_migrations',
      schemaName: 'public',
      sortDirsSeparately: false,
      disableTransactions: false,
    };
    const { fingerprint } = await runRollback(rollbackOptions(db.url, { mode: 'plan', settings }));
    fs.appendFileSync(path.join(project, 'migrations/006_add_ticket_state_machine.ts'), '\n// edited after review\n');
    const error = await failureOf(
      runRollback(
        rollbackOptions(db.url, { mode: 'rollback', settings, allowDestructive: true, expectedPlan: fingerprint }),
      ),
    );
    expect(error.message).toMatch(/expected-plan.*a migration file changed/s);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(7);
    fs.rmSync(project, { recursive: true, force: true });
  });

  it('runs the reviewed plan when nothing changed since', async () => {
    const { fingerprint } = await runRollback(rollbackOptions(db.url, { mode: 'plan' }));
    const result = await runRollback(
      rollbackOptions(db.url, { mode: 'rollback', allowDestructive: true, expectedPlan: fingerprint }),
    );
    expect(result.rolledBack).toHaveLength(2);
  });

  it('refuses `to` and `migration` naming an unknown or a not-applied migration, changing nothing', async () => {
    await runRollback(rollbackOptions(db.url, { mode: 'rollback', allowDestructive: true }));
    const unknown = await failureOf(
      runRollback(rollbackOptions(db.url, { mode: 'rollback', request: { kind: 'to', to: '999_nope.ts' } })),
    );
    expect(unknown.message).toMatch(/Input "to" names "999_nope.ts", which is neither applied nor a file/);
    const notApplied = await failureOf(
      runRollback(
        rollbackOptions(db.url, { mode: 'down', request: { kind: 'down', migration: '007_add_security_tables.ts' } }),
      ),
    );
    expect(notApplied.message).toMatch(/Input "migration" names "007_add_security_tables.ts", which is not applied/);
    expect(await migrationRows((sql) => db.query(sql))).toHaveLength(5);
  });
});
