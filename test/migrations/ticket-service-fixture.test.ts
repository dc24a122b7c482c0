import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { FileMigrationSource, listMigrationFiles } from '../../src/migrations/source.js';
import { BATCH_ONE, BATCH_TWO, migrateTicketService, ticketServiceMigrations } from '../helpers/ticket-service.js';

describe('the ticket-service fixture', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createDatabase('fixture');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('applies 001-005 as batch 1 and 006-007 as batch 2', async () => {
    await migrateTicketService(db.knex());
    const rows = await db.query<{ name: string; batch: number }>('SELECT name, batch FROM knex_migrations ORDER BY id');
    expect(rows).toEqual([
      ...BATCH_ONE.map((name) => ({ name, batch: 1 })),
      ...BATCH_TWO.map((name) => ({ name, batch: 2 })),
    ]);
    const rls = await db.query<{ relname: string; relrowsecurity: boolean }>(
      "SELECT relname, relrowsecurity FROM pg_class WHERE relname IN ('tickets', 'ticket_scans') ORDER BY relname",
    );
    expect(rls).toEqual([
      { relname: 'ticket_scans', relrowsecurity: true },
      { relname: 'tickets', relrowsecurity: true },
    ]);
  });

  it("undoes everything with Knex's own rollback: its downs are the runbook's and run", async () => {
    const knex = db.knex();
    await knex.migrate.rollback(
      { migrationSource: new FileMigrationSource(listMigrationFiles([ticketServiceMigrations])) },
      true,
    );
    const tables = await db.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'knex_%' ORDER BY tablename",
    );
    expect(tables).toEqual([]);
    const types = await db.query(
      "SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'",
    );
    expect(types).toEqual([]);
  });
});
