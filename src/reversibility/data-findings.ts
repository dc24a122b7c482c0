import { tableWritesEach, type RowWrite, type TableWrite } from '../sql/classify.js';
import type { MigrationActivity } from './query-observer.js';

// Warnings about data, which a schema comparison cannot see: a down() that deletes or
// overwrites rows of a table that was there before its up() (every saved chart, say), and a
// down() that does not run, or does not wait for, a query it builds. Which tables a statement
// writes, and how, is decided by the rollback's classifier (src/sql, tableWritesEach) from
// PostgreSQL's own parse tree, so a DELETE hidden in a CTE counts and a string that mentions
// one does not, and the two actions cannot disagree about what a statement does.
//
// Not warned: rows a down() deletes from a table its own up() inserted into (a lookup value
// added and removed again), and anything done to a table the migration itself created.

const WORDS: Record<Exclude<RowWrite, 'insert'>, string> = {
  delete: 'deletes rows from',
  update: 'updates rows of',
  truncate: 'empties',
};

/** What the check knows of one migration when it looks at its data. */
export interface DataContext {
  /** Tables of the compared schema before its up(). */
  tablesBefore: ReadonlySet<string>;
  activity: MigrationActivity;
}

/**
 * The warnings for each migration, in one request to the parser for the whole run.
 * `schema` is the compared schema: an unqualified table is taken to be in it.
 */
export async function dataFindings(
  migrations: ReadonlyMap<string, DataContext>,
  schema: string,
): Promise<Map<string, string[]>> {
  const texts: string[] = [];
  for (const { activity } of migrations.values()) texts.push(...activity.statements.up, ...activity.statements.down);
  const writes = texts.length ? await tableWritesEach(texts) : [];
  const findings = new Map<string, string[]>();
  let next = 0;
  for (const [name, { tablesBefore, activity }] of migrations) {
    const ofUp = writes.slice(next, (next += activity.statements.up.length)).flat();
    const ofDown = writes.slice(next, (next += activity.statements.down.length)).flat();
    const inSchema = (write: TableWrite) => write.schema === undefined || write.schema === schema;
    const insertedByUp = new Set(ofUp.filter((w) => w.write === 'insert' && inSchema(w)).map((w) => w.table));
    const warnings = new Set<string>();
    for (const write of ofDown) {
      if (write.write === 'insert' || !inSchema(write) || !tablesBefore.has(write.table)) continue;
      if (write.write === 'delete' && insertedByUp.has(write.table)) continue;
      warnings.add(`down() ${WORDS[write.write]} ${write.table} (a table older than this migration)`);
    }
    for (const sql of activity.neverRun) warnings.add(`down() builds a query it never runs (a missing await?): ${sql}`);
    for (const sql of activity.notAwaited)
      warnings.add(`down() returned before its query finished (a missing await?): ${sql}`);
    for (const sql of activity.late) warnings.add(`down() sends a query after it returned: ${sql}`);
    if (warnings.size) findings.set(name, [...warnings]);
  }
  return findings;
}
