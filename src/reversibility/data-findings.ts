import type { ObservedStatement } from '../migrations/guard.js';
import { SETTLE_GRACE_MS } from '../migrations/guard.js';
import { oneLine } from '../migrations/review.js';
import { tableWritesEach, type RowWrite, type TableWrite } from '../sql/classify.js';
import type { BuilderActivity, Direction, ObservedStep } from './query-observer.js';

// Warnings about data, which a schema comparison cannot see: a down() that deletes or
// overwrites rows of a table that was there before its up() (every saved chart, say), runs
// code whose effect on rows its statement does not show, does not run or wait for a query it
// builds, or sends one after it returned. The statements are those the rollback's statement
// guard saw at the pg client (observe mode), with the rows PostgreSQL counted; which tables
// a statement writes, and how, is decided by the rollback's classifier (src/sql,
// tableWritesEach) from PostgreSQL's own parse tree, so a DELETE hidden in a CTE counts and
// a string that mentions one does not, and the two actions cannot disagree about what a
// statement does.
//
// Not warned: anything done to a table the migration itself created, and rows a down()
// deletes or updates in a table its own up() inserted into, as long as it changes no more
// rows than up() inserted (a lookup value added and removed again is exact; `DELETE FROM
// statuses` after adding one status is not).

/** Only these can change rows; anything else is not parsed again. */
const MAY_WRITE = /\b(insert|update|delete|truncate|merge)\b/i;

const WORDS: Record<Exclude<RowWrite, 'insert'>, string> = {
  delete: 'deletes rows from',
  update: 'updates rows of',
  truncate: 'empties',
};

/** One statement a step sent, as the guard saw it. */
export interface SentStatement {
  sql: string;
  /** Rows PostgreSQL counted for a data-changing statement. */
  rowCount?: number;
  /** Sent after down() returned. */
  late: boolean;
  opaqueCode?: string[];
}

/** What one migration's up() and down() did, as far as the schema cannot tell. */
export interface MigrationActivity extends BuilderActivity {
  statements: Record<Direction, SentStatement[]>;
  /** down() left a timer running longer than the guard waited for it. */
  timerLeft: boolean;
}

/** What the check knows of one migration when it looks at its data. */
export interface DataContext {
  /** Tables of the compared schema before its up(). */
  tablesBefore: ReadonlySet<string>;
  activity: MigrationActivity;
}

/** Each migration's activity: the guard's statements by the step whose frame sent them, and down()'s builders. */
export function collectActivity(
  observed: readonly ObservedStatement[],
  stepOf: (frame: ObservedStatement['frame']) => ObservedStep | undefined,
  builders: ReadonlyMap<string, BuilderActivity>,
  timersLeft: ReadonlySet<string>,
): Map<string, MigrationActivity> {
  const activity = new Map<string, MigrationActivity>();
  const of = (migration: string) => {
    let found = activity.get(migration);
    if (!found) {
      const built = builders.get(migration) ?? { neverRun: [], notAwaited: [] };
      found = { statements: { up: [], down: [] }, ...built, timerLeft: timersLeft.has(migration) };
      activity.set(migration, found);
    }
    return found;
  };
  for (const migration of builders.keys()) of(migration);
  for (const { statement, frame, late, knexTransaction, opaqueCode } of observed) {
    // Knex's BEGIN/COMMIT/SAVEPOINT change no rows; what a frame's own code sent does.
    const step = knexTransaction ? undefined : stepOf(frame);
    if (step)
      of(step.migration).statements[step.direction].push({
        sql: statement.sql,
        rowCount: statement.rowCount,
        late,
        opaqueCode,
      });
  }
  return activity;
}

/**
 * The warnings for each migration, in one request to the parser for the whole run.
 * `schema` is the compared schema: an unqualified table is taken to be in it.
 */
export async function dataFindings(
  migrations: ReadonlyMap<string, DataContext>,
  schema: string,
): Promise<Map<string, string[]>> {
  const writing = (statements: SentStatement[]) => statements.filter((statement) => MAY_WRITE.test(statement.sql));
  const texts: string[] = [];
  for (const { activity } of migrations.values())
    for (const statement of [...writing(activity.statements.up), ...writing(activity.statements.down)])
      texts.push(statement.sql);
  const writes = texts.length ? await tableWritesEach(texts) : [];
  const findings = new Map<string, string[]>();
  let next = 0;
  for (const [name, { tablesBefore, activity }] of migrations) {
    const rowsOf = (statements: SentStatement[]) =>
      writing(statements).flatMap((statement) => counted(writes[next++], statement.rowCount, schema));
    const ofUp = rowsOf(activity.statements.up);
    const ofDown = rowsOf(activity.statements.down);
    const warnings = [...rowWarnings(ofUp, ofDown, tablesBefore), ...codeWarnings(activity)];
    if (warnings.length) findings.set(name, [...new Set(warnings)]);
  }
  return findings;
}

/** A write and the rows it changed: unknown when the statement writes more than one table. */
interface CountedWrite {
  write: RowWrite;
  table: string;
  rows?: number;
}

function counted(writes: readonly TableWrite[], rowCount: number | undefined, schema: string): CountedWrite[] {
  const tables = new Set(writes.map((write) => `${write.schema ?? ''}.${write.table}`));
  const rows = tables.size === 1 ? rowCount : undefined;
  return writes
    .filter((write) => write.schema === undefined || write.schema === schema)
    .map((write) => ({ write: write.write, table: write.table, rows }));
}

function rowWarnings(ofUp: CountedWrite[], ofDown: CountedWrite[], tablesBefore: ReadonlySet<string>): string[] {
  const inserted = new Map<string, number>();
  for (const { write, table, rows } of ofUp)
    if (write === 'insert' && rows !== undefined) inserted.set(table, (inserted.get(table) ?? 0) + rows);
  const changed = new Map<string, { write: Exclude<RowWrite, 'insert'>; table: string; rows: number }>();
  for (const { write, table, rows } of ofDown) {
    if (write === 'insert' || !tablesBefore.has(table)) continue;
    const key = `${write} ${table}`;
    const total = (changed.get(key)?.rows ?? 0) + (rows ?? Number.POSITIVE_INFINITY);
    changed.set(key, { write, table, rows: total });
  }
  const warnings: string[] = [];
  for (const { write, table, rows } of changed.values()) {
    const byUp = inserted.get(table) ?? 0;
    if (write !== 'truncate' && byUp > 0 && rows <= byUp) continue;
    const counted = write !== 'truncate' && byUp > 0 && Number.isFinite(rows);
    warnings.push(
      counted
        ? `down() ${WORDS[write].replace(' rows', ` ${rows} rows`)} ${table}, more than the ${byUp} its up() inserted (a table older than this migration)`
        : `down() ${WORDS[write]} ${table} (a table older than this migration)`,
    );
  }
  return warnings;
}

function codeWarnings(activity: MigrationActivity): string[] {
  const { down } = activity.statements;
  return [
    ...down
      .filter((statement) => statement.opaqueCode?.length)
      .map((statement) => `down() runs code whose effect on rows cannot be read: ${oneLine(statement.sql)}`),
    ...activity.neverRun.map((sql) => `down() builds a query it never runs (a missing await?): ${sql}`),
    ...activity.notAwaited.map((sql) => `down() returned before its query finished (a missing await?): ${sql}`),
    // A query started before down() returned and not awaited reaches the server late: said once, as not awaited.
    ...down
      .filter((statement) => statement.late && !activity.notAwaited.includes(oneLine(statement.sql)))
      .map((statement) => `down() sends a query after it returned: ${oneLine(statement.sql)}`),
    ...(activity.timerLeft
      ? [
          `down() left a timer running after it returned (waited ${SETTLE_GRACE_MS} ms): what it sends then is not part of the check`,
        ]
      : []),
  ];
}
