import { classifyEach, tableWritesEach } from '../../src/sql/classify.js';

// tableWritesEach answers "which tables does this statement write, and how" with the walk and
// rules that classify it: verify-reversible's data warnings and the rollback's guard read
// the same parse tree the same way.

describe('tableWritesEach', () => {
  it('names each table a statement changes rows of, and how, as written', async () => {
    expect(
      await tableWritesEach([
        'DELETE FROM saved_queries_versions WHERE id = $1',
        'UPDATE reporting.charts SET kind = ? WHERE id = ?',
        'INSERT INTO statuses (name) VALUES ($1)',
        'TRUNCATE a, b',
      ]),
    ).toEqual([
      [{ write: 'delete', schema: undefined, table: 'saved_queries_versions' }],
      [{ write: 'update', schema: 'reporting', table: 'charts' }],
      [{ write: 'insert', schema: undefined, table: 'statuses' }],
      [
        { write: 'truncate', schema: undefined, table: 'a' },
        { write: 'truncate', schema: undefined, table: 'b' },
      ],
    ]);
  });

  it('finds a write hidden in a CTE and every statement of one input', async () => {
    const [cte, several] = await tableWritesEach([
      'WITH gone AS (DELETE FROM charts RETURNING id) SELECT count(*) FROM gone',
      "SELECT 1; UPDATE statuses SET name = 'x'; DELETE FROM knex_migrations WHERE name = 'a'",
    ]);
    expect(cte).toEqual([{ write: 'delete', schema: undefined, table: 'charts' }]);
    expect(several.map(({ write, table }) => `${write} ${table}`)).toEqual([
      'update statuses',
      'delete knex_migrations',
    ]);
  });

  it('reads an upsert as an insert that can overwrite, and a MERGE by what its branches do', async () => {
    const [upsert, merge] = await tableWritesEach([
      'INSERT INTO statuses (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = excluded.name',
      'MERGE INTO charts c USING staged s ON c.id = s.id WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)',
    ]);
    expect(upsert.map(({ write }) => write)).toEqual(['insert', 'update']);
    expect(merge.map(({ write }) => write).sort()).toEqual(['delete', 'insert']);
  });

  it('writes nothing for reads, DDL, a string that mentions a DELETE, or a rule or function body run later', async () => {
    expect(
      await tableWritesEach([
        'SELECT * FROM charts',
        "SELECT 'DELETE FROM charts'",
        'DROP TABLE charts',
        'CREATE RULE keep AS ON DELETE TO charts DO INSTEAD DELETE FROM archive',
        'CREATE FUNCTION purge() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM charts; END',
        '',
      ]),
    ).toEqual([[], [], [], [], [], []]);
  });

  it('names no table for what the parser cannot read, while the classifier fails closed on it', async () => {
    const text = 'DELET FROM charts';
    expect(await tableWritesEach([text])).toEqual([[]]);
    expect((await classifyEach([text]))[0][0].risk).toBe('destructive');
  });
});
