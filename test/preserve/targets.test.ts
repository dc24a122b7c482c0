import type { Node } from 'libpg-query';
import { parseTexts } from '../../src/sql/parser-process.js';
import { copySelect } from '../../src/preserve/copy-sql.js';
import { targetsOf, type Reading, type Target } from '../../src/preserve/targets.js';

async function read(sql: string): Promise<Reading> {
  const [reply] = await parseTexts([sql]);
  if (!reply.ok) throw new Error(reply.message);
  return targetsOf(reply.value.stmts![0].stmt as Node);
}

async function targets(sql: string): Promise<Target[]> {
  const reading = await read(sql);
  if ('unreadable' in reading) throw new Error(reading.unreadable);
  return reading.targets;
}

const table = {
  oid: 1,
  schema: 'public',
  name: 'orders',
  sql: '"public"."orders"',
  label: 'public.orders',
  heapBytes: 8192,
};
const column = (name: string, type = 'integer', userType = false) => ({ name, type, userType, generated: false });
const columns = [column('id'), column('total'), column('note', 'text'), column('state', 'order_state', true)];
const all = columns.map((c) => c.name);

describe('what a destroying statement destroys, read from its parse tree', () => {
  it('selects the rows a DELETE selects, with its own alias, USING list and WHERE', async () => {
    const [target] = await targets(
      "DELETE FROM orders AS o USING customers c WHERE o.customer_id = c.id AND c.status = 'gone; DROP TABLE x'",
    );
    expect(target).toMatchObject({ kind: 'delete', table: { name: 'orders' } });
    expect(copySelect(target, table, columns, all)).toBe(
      `SELECT "o"."id", "o"."total", "o"."note", "o"."state"::text AS "state" FROM "public"."orders" AS "o" WHERE EXISTS (SELECT 1 FROM customers AS c WHERE o.customer_id = c.id\n  AND c.status = 'gone; DROP TABLE x')`,
    );
  });

  it('keeps the key and the set columns of an UPDATE, for the rows it selects', async () => {
    const [target] = await targets('UPDATE public.orders SET total = 0, note = NULL WHERE total < 0');
    expect(target).toMatchObject({
      kind: 'update',
      table: { schema: 'public', name: 'orders' },
      columns: ['total', 'note'],
    });
    expect(copySelect(target, table, columns, ['id', ...target.columns!])).toBe(
      'SELECT "orders"."id", "orders"."total", "orders"."note" FROM "public"."orders" AS "orders" WHERE total < 0',
    );
  });

  it('carries a WITH clause that only reads, and refuses one that changes data', async () => {
    const [target] = await targets(
      'WITH old AS (SELECT id FROM orders WHERE id < 10) DELETE FROM orders WHERE id IN (SELECT id FROM old)',
    );
    expect(copySelect(target, table, columns, all)).toMatch(
      /^WITH\s+old AS \(SELECT id[\s\S]*\) SELECT "orders"\."id", /,
    );
    expect(
      await read('WITH gone AS (DELETE FROM audit RETURNING id) DELETE FROM orders WHERE id IN (SELECT id FROM gone)'),
    ).toEqual({
      unreadable: 'its WITH clause changes data itself, so the rows cannot be selected without changing them',
    });
  });

  it('reads DROP TABLE (each table), DROP COLUMN (IF EXISTS), TRUNCATE and a type change', async () => {
    expect((await targets('DROP TABLE IF EXISTS a, s.b CASCADE')).map((t) => [t.kind, t.table, t.missingOk])).toEqual([
      ['drop-table', { name: 'a' }, true],
      ['drop-table', { schema: 's', name: 'b' }, true],
    ]);
    expect(
      (await targets('ALTER TABLE t DROP COLUMN IF EXISTS c, ALTER COLUMN d TYPE smallint, ADD COLUMN e int')).map(
        (t) => [t.kind, t.columns],
      ),
    ).toEqual([
      ['drop-column', ['c']],
      ['alter-type', ['d']],
    ]);
    expect((await targets('TRUNCATE a, b')).map((t) => t.table.name)).toEqual(['a', 'b']);
  });

  it('keeps a column of a user-defined type as text, so the copy does not depend on the type', async () => {
    const [target] = await targets('ALTER TABLE orders DROP COLUMN state');
    expect(copySelect(target, table, columns, ['id', 'state'])).toBe(
      'SELECT "orders"."id", "orders"."state"::text AS "state" FROM "public"."orders" AS "orders"',
    );
  });

  it('says what it cannot read rather than guessing', async () => {
    expect(await read('DO $$ BEGIN DELETE FROM t; END $$')).toEqual({
      unreadable: 'a DoStmt is not one of the statements whose data is kept',
    });
    expect(await read('DROP TYPE mood')).toEqual({ unreadable: 'DROP TYPE is not a table' });
  });
});
