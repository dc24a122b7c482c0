import { parseTexts } from '../sql/parser-process.js';
import type { MigrationActivity } from './query-observer.js';

// Warnings about data, which a schema comparison cannot see: a down() that deletes or
// overwrites rows of a table that was there before its up() (every saved chart, say), and a
// down() that does not run, or does not wait for, a query it builds. The tables a statement
// writes are read from PostgreSQL's own parse tree (the parser the rollback's statement
// classifier runs), so a DELETE hidden in a CTE counts and a string that mentions one does not.
//
// Not warned: rows a down() deletes from a table its own up() inserted into (a lookup value
// added and removed again), and anything done to a table the migration itself created.

type Write = 'insert' | 'update' | 'delete' | 'truncate' | 'merge';

const STATEMENTS: Record<string, Write> = {
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  TruncateStmt: 'truncate',
  MergeStmt: 'merge',
};

const WORDS: Record<Exclude<Write, 'insert'>, string> = {
  delete: 'deletes rows from',
  update: 'updates rows of',
  truncate: 'empties',
  merge: 'merges rows into',
};

interface TableWrite {
  write: Write;
  /** Schema-qualified when the statement qualifies it. */
  schema?: string;
  table: string;
}

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
  const writes = await tableWrites(texts);
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
    if (warnings.size) findings.set(name, [...warnings]);
  }
  return findings;
}

/** The tables each text writes to; a text the parser cannot read writes to none it can name. */
async function tableWrites(texts: readonly string[]): Promise<TableWrite[][]> {
  if (texts.length === 0) return [];
  const replies = await parseTexts(texts);
  return replies.map((reply) => {
    const found: TableWrite[] = [];
    if (reply.ok) collect(reply.value, found);
    return found;
  });
}

/** Walks a parse tree for the data-changing statements in it, wherever they sit (a CTE, a rule body). */
function collect(node: unknown, found: TableWrite[]): void {
  if (Array.isArray(node)) {
    for (const child of node) collect(child, found);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    const write = STATEMENTS[key];
    if (write) for (const relation of relationsOf(write, value)) found.push({ write, ...relation });
    collect(value, found);
  }
}

interface RangeVar {
  relname?: string;
  schemaname?: string;
}

function relationsOf(write: Write, statement: unknown): { schema?: string; table: string }[] {
  const body = statement as { relation?: RangeVar; relations?: { RangeVar?: RangeVar }[] };
  const relations =
    write === 'truncate' ? (body.relations ?? []).map((node) => node.RangeVar) : [body.relation ?? undefined];
  return relations
    .filter((relation): relation is RangeVar => typeof relation?.relname === 'string')
    .map((relation) => ({ schema: relation.schemaname, table: relation.relname! }));
}
