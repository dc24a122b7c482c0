import pg from 'pg';
import { bookkeepingTables, captureSchema, type SchemaSnapshot } from '../../src/reversibility/schema-capture.js';
import { describeDifference, diffSchemas } from '../../src/reversibility/schema-diff.js';
import { createDatabase, type TestDatabase } from '../helpers/database.js';

describe('captureSchema', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let snapshot: SchemaSnapshot;

  beforeAll(async () => {
    db = await createDatabase('capture');
    await db.query(`
      CREATE EXTENSION IF NOT EXISTS pgcrypto;
      CREATE TABLE knex_migrations (id serial PRIMARY KEY, name text);
      CREATE TABLE knex_migrations_lock (index serial PRIMARY KEY, is_locked integer);
      CREATE TYPE mood AS ENUM ('calm', 'busy');
      CREATE DOMAIN short_text AS text NOT NULL CHECK (length(VALUE) < 10);
      CREATE TABLE tickets (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        state text NOT NULL DEFAULT 'open',
        mood mood,
        label short_text,
        priority integer NOT NULL CHECK (priority > 0)
      );
      CREATE INDEX tickets_state_idx ON tickets (state) WHERE state <> 'closed';
      CREATE SEQUENCE ticket_numbers START WITH 100 INCREMENT BY 5;
      CREATE VIEW busy_tickets AS SELECT id FROM tickets WHERE mood = 'busy';
      CREATE FUNCTION ticket_count(state text) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM tickets WHERE tickets.state = $1';
      CREATE FUNCTION tickets_noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
      CREATE TRIGGER tickets_noop BEFORE INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION tickets_noop();
      ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
      CREATE POLICY tickets_calm ON tickets FOR SELECT TO PUBLIC USING (mood = 'calm');
    `);
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    snapshot = await captureSchema(client, { schema: 'public', exclude: bookkeepingTables('knex_migrations') });
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  const properties = (key: string) => snapshot.get(key)?.properties;

  it('captures every kind of object the check compares, in SQL words', () => {
    expect(properties('table tickets')).toEqual(['ROW LEVEL SECURITY']);
    expect(properties('column tickets.state')).toEqual(['type text', 'NOT NULL', "DEFAULT 'open'::text"]);
    expect(properties('column tickets.id')).toEqual(['type bigint', 'NOT NULL', 'GENERATED ALWAYS AS IDENTITY']);
    expect(properties('column tickets.label')).toEqual(['type short_text']);
    expect(properties('index tickets_state_idx')).toEqual([
      "CREATE INDEX tickets_state_idx ON public.tickets USING btree (state) WHERE (state <> 'closed'::text)",
    ]);
    expect(properties('constraint tickets_pkey on tickets')).toEqual(['PRIMARY KEY (id)']);
    expect(properties('constraint tickets_priority_check on tickets')).toEqual(['CHECK ((priority > 0))']);
    expect(properties('view busy_tickets')).toEqual(["AS SELECT id FROM tickets WHERE mood = 'busy'::mood"]);
    expect(properties('sequence ticket_numbers')).toEqual([
      'AS bigint',
      'INCREMENT BY 5',
      'MINVALUE 1',
      'MAXVALUE 9223372036854775807',
      'START WITH 100',
    ]);
    expect(properties('sequence tickets_id_seq')).toContain('OWNED BY tickets.id');
    expect(properties('enum type mood')).toEqual(["value 'calm'", "value 'busy'", "ORDER ('calm', 'busy')"]);
    expect(properties('domain short_text')).toEqual([
      'AS text',
      'NOT NULL',
      'CONSTRAINT short_text_check CHECK ((length(VALUE) < 10))',
    ]);
    expect(properties('function ticket_count(state text)')).toEqual(
      expect.arrayContaining(['RETURNS bigint', 'LANGUAGE sql', 'STABLE']),
    );
    expect(properties('trigger tickets_noop on tickets')).toEqual([
      'CREATE TRIGGER tickets_noop BEFORE INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION tickets_noop()',
    ]);
    expect(properties('policy tickets_calm on tickets')).toEqual([
      'AS PERMISSIVE',
      'FOR SELECT',
      'TO PUBLIC',
      "USING ((mood = 'calm'::mood))",
    ]);
  });

  it("leaves out extension members and Knex's bookkeeping tables", () => {
    const keys = [...snapshot.keys()];
    expect(keys.filter((key) => key.includes('knex_migrations'))).toEqual([]);
    expect(keys.filter((key) => key.startsWith('function ')).sort()).toEqual([
      'function ticket_count(state text)',
      'function tickets_noop()',
    ]);
  });
});

/** Runs `change` between two captures of a fresh database and returns the difference, line by line. */
async function differenceAfter(label: string, setup: string, change: string): Promise<string[]> {
  const db = await createDatabase(label);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    if (setup) await client.query(setup);
    const before = await captureSchema(client, { schema: 'public', exclude: [] });
    await client.query(change);
    const after = await captureSchema(client, { schema: 'public', exclude: [] });
    return describeDifference(diffSchemas(before, after));
  } finally {
    await client.end();
    await db.drop();
  }
}

describe('extensions', () => {
  it('are one object each, whatever they own', async () => {
    expect(await differenceAfter('ext_left', '', 'CREATE EXTENSION citext; CREATE EXTENSION "uuid-ossp"')).toEqual([
      'extension citext left behind',
      'extension uuid-ossp left behind',
    ]);
  });

  it('are lost when a down() drops one that was there before', async () => {
    expect(await differenceAfter('ext_lost', 'CREATE EXTENSION citext', 'DROP EXTENSION citext')).toEqual([
      'extension citext lost',
    ]);
  });

  it('are compared wherever they were installed', async () => {
    expect(
      await differenceAfter('ext_schema', 'CREATE SCHEMA extensions', 'CREATE EXTENSION citext SCHEMA extensions'),
    ).toEqual(['extension citext left behind']);
  });

  it("leave out the indexes of an extension's own tables", async () => {
    const db = await createDatabase('ext_members');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('CREATE EXTENSION citext');
      const snapshot = await captureSchema(client, { schema: 'public', exclude: [] });
      expect([...snapshot.keys()].filter((key) => !key.startsWith('extension '))).toEqual([]);
      expect(snapshot.get('extension citext')?.properties).toEqual([
        'SCHEMA public',
        expect.stringMatching(/^VERSION \d/),
      ]);
    } finally {
      await client.end();
      await db.drop();
    }
  });
});

describe('long names', () => {
  // 40 bytes of table and 42 of column: `table.column` is 83 bytes, and both columns share its first 63.
  const table = 'saved_queries_version_additional_metrics';
  const setup = `
    CREATE TABLE ${table} (
      saved_queries_version_additional_metric_id integer NOT NULL,
      saved_queries_version_id integer NOT NULL,
      CONSTRAINT ${table}_version_id_check CHECK (saved_queries_version_id > 0)
    );
    CREATE TABLE dashboard_versions (id integer PRIMARY KEY, updated_by_user_uuid uuid);
    ALTER TABLE dashboard_versions ADD CONSTRAINT dashboard_versions_updated_by_user_uuid_foreign CHECK (updated_by_user_uuid IS NOT NULL);
  `;

  it('report a difference in one of two columns whose table.column keys share their first 63 bytes', async () => {
    expect(
      await differenceAfter(
        'long_columns',
        setup,
        `ALTER TABLE ${table} ALTER COLUMN saved_queries_version_additional_metric_id DROP NOT NULL`,
      ),
    ).toEqual([`column ${table}.saved_queries_version_additional_metric_id: NOT NULL lost`]);
    expect(
      await differenceAfter(
        'long_columns2',
        setup,
        `ALTER TABLE ${table} ALTER COLUMN saved_queries_version_id DROP NOT NULL`,
      ),
    ).toEqual([`column ${table}.saved_queries_version_id: NOT NULL lost`]);
  });

  it('name a constraint and its table in full', async () => {
    expect(
      await differenceAfter(
        'long_constraint',
        setup,
        'ALTER TABLE dashboard_versions DROP CONSTRAINT dashboard_versions_updated_by_user_uuid_foreign',
      ),
    ).toEqual(['constraint dashboard_versions_updated_by_user_uuid_foreign on dashboard_versions lost']);
  });

  it('keep every object of a table whose keys are longer than 63 bytes', async () => {
    const db = await createDatabase('long_keys');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(setup);
      const snapshot = await captureSchema(client, { schema: 'public', exclude: [] });
      expect([...snapshot.keys()].filter((key) => key.includes(table)).sort()).toEqual([
        `column ${table}.saved_queries_version_additional_metric_id`,
        `column ${table}.saved_queries_version_id`,
        `constraint ${table}_version_id_check on ${table}`,
        `table ${table}`,
      ]);
    } finally {
      await client.end();
      await db.drop();
    }
  });
});

describe('enum values in another order', () => {
  it('are a difference: the order is how an enum sorts and compares', async () => {
    const db = await createDatabase('enum_order');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query("CREATE TYPE severity AS ENUM ('low', 'high')");
      const before = await captureSchema(client, { schema: 'public', exclude: [] });
      // What a careless down() does: recreate the type with the same values, appending in another order.
      await client.query("DROP TYPE severity; CREATE TYPE severity AS ENUM ('high', 'low')");
      const after = await captureSchema(client, { schema: 'public', exclude: [] });
      expect(describeDifference(diffSchemas(before, after))).toEqual([
        "enum type severity: ORDER ('high', 'low') left behind",
        "enum type severity: ORDER ('low', 'high') lost",
      ]);
    } finally {
      await client.end();
      await db.drop();
    }
  });
});

describe('diffSchemas', () => {
  const snapshot = (objects: Record<string, { table?: string; properties: string[] }>): SchemaSnapshot =>
    new Map(Object.entries(objects).map(([key, value]) => [key, { key, ...value }]));

  it('names objects and properties left behind or lost', () => {
    const before = snapshot({
      'table tickets': { properties: [] },
      'column tickets.priority': { table: 'tickets', properties: ['type integer', 'NOT NULL'] },
    });
    const after = snapshot({
      'table tickets': { properties: ['ROW LEVEL SECURITY'] },
      'column tickets.priority': { table: 'tickets', properties: ['type integer'] },
      'index tickets_state_idx': { table: 'tickets', properties: ['CREATE INDEX ...'] },
    });
    const difference = diffSchemas(before, after);
    expect(difference).toEqual({
      left: ['index tickets_state_idx', 'table tickets: ROW LEVEL SECURITY'],
      lost: ['column tickets.priority: NOT NULL'],
    });
    expect(describeDifference(difference)).toEqual([
      'index tickets_state_idx left behind',
      'table tickets: ROW LEVEL SECURITY left behind',
      'column tickets.priority: NOT NULL lost',
    ]);
  });

  it('reports a table left behind once, not once per column and index', () => {
    const after = snapshot({
      'table notes': { properties: [] },
      'column notes.id': { table: 'notes', properties: ['type integer'] },
      'constraint notes_pkey on notes': { table: 'notes', properties: ['PRIMARY KEY (id)'] },
    });
    expect(diffSchemas(new Map(), after)).toEqual({ left: ['table notes'], lost: [] });
    expect(diffSchemas(after, new Map())).toEqual({ left: [], lost: ['table notes'] });
  });
});
