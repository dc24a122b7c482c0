import { renderStatement } from '../../src/migrations/render-sql.js';
import { renderSql } from '../../src/migrations/report.js';
import { createDatabase, type TestDatabase } from '../helpers/database.js';

// The rendered statement must mean what the parameterised one meant: both are run on a real
// server and their results compared.
describe('renderStatement', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createDatabase('render_sql');
  });
  afterAll(async () => {
    await db.drop();
  });

  const cases: [string, string, unknown][] = [
    ['a string with quotes and a backslash', 'text', `O'Reilly \\ "quoted" ; DROP TABLE x; --`],
    ['null', 'text', null],
    ['a number', 'numeric', 42.5],
    ['a boolean', 'boolean', false],
    ['a bigint', 'bigint', 9007199254740993n],
    ['a date', 'timestamptz', new Date('2024-06-11T08:30:00.123Z')],
    ['an array with quotes, backslashes and a null', 'text[]', ['a"b', 'c\\d', null, "e'f", '']],
    [
      'a nested array',
      'int[]',
      [
        [1, 2],
        [3, 4],
      ],
    ],
    ['a JSON object', 'jsonb', { name: "O'Reilly", tags: ['x', 'y'], nested: { n: 1, none: null } }],
    ['a buffer', 'bytea', Buffer.from([0, 1, 254, 255, 39])],
  ];

  it.each(cases)('renders %s as the value the server received', async (_label, type, value) => {
    const [bound] = await db.query(`SELECT $1::${type} AS v`, [value]);
    const rendered = renderStatement(`SELECT $1::${type} AS v`, [value]);
    const [literal] = await db.query(rendered);
    expect(literal.v).toEqual(bound.v);
  });

  it('writes every position in, leaves unknown positions and text without parameters alone', () => {
    expect(renderStatement('UPDATE t SET a = $1, b = $2 WHERE c = $1', ['x', 7])).toBe(
      "UPDATE t SET a = 'x', b = 7 WHERE c = 'x'",
    );
    expect(renderStatement('SELECT $3', ['x'])).toBe('SELECT $3');
    expect(renderStatement('SELECT $1', [])).toBe('SELECT $1');
  });
});

describe('renderSql', () => {
  it('writes a migration name with a newline or another control character as text, never as a workflow command', () => {
    const sql = renderSql([
      {
        sql: 'DROP TABLE x',
        migration: '003_x\n::error::pwned\u0007.js',
        risk: 'destructive',
        reasons: ['drops table'],
      },
      { sql: 'COMMIT', migration: '003_x.js', risk: 'warning', reasons: [], outcome: 'refused' },
    ]);
    expect(sql.split('\n')).toEqual([
      '-- 003_x\\x0a::error::pwned\\x07.js',
      'DROP TABLE x; -- destructive: drops table',
      '-- 003_x.js',
      'COMMIT; -- warning:  -- REFUSED: not sent',
    ]);
  });
});
