// The copy before the destruction: called by the statement guard (migrations/guard.ts) right
// before it sends a destructive statement, on the run's own session, so the copy is made in
// the same transaction as the destruction and commits or rolls back with it. The table is
// locked against writes first, so nothing written between the copy and the destruction
// escapes it. A dry run only estimates.
import crypto from 'node:crypto';
import { errorMessage } from '../common/errors.js';
import type { Session } from '../migrations/lock.js';
import { parseTexts } from '../sql/parser-process.js';
import { copySelect, estimate } from './copy-sql.js';
import { formatSize } from './size.js';
import { addToCatalog, closeTable, copySql, ensureStore } from './store.js';
import { columnsOf, keyOf, neverWritten, resolveTable, type ResolvedTable } from './tables.js';
import { targetsOf, type Target } from './targets.js';
import type { CopyReport, DestroyingStatement, PreservationReport, PreserveOptions } from './types.js';

/** A refusal of the copy (over preserve-data-max): the guard turns it into the run's refusal. */
export class PreserveRefusal extends Error {
  override readonly name = 'PreserveRefusal';
}

/** A short id for one run's copies: sortable by time, unique enough to name tables by. */
export function newPreserveId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 12);
  return `rb${stamp}_${crypto.randomBytes(3).toString('hex')}`;
}

export class Preserver {
  readonly id: string;
  private readonly copies: CopyReport[] = [];
  private readonly notKept: string[] = [];
  /** A dry run's destroying statements, for mode estimate-data on production (src/preserve/estimate.ts). */
  private readonly seen: DestroyingStatement[] = [];
  private estimatedBytes = 0;
  private storeReady = false;

  constructor(
    private readonly options: PreserveOptions,
    id = newPreserveId(),
  ) {
    this.id = id;
  }

  /**
   * What is kept so far; the returned function forgets everything kept after it. A transaction
   * retried after a lock timeout (src/migrations/lock-retry.ts) rolled back its copies, and the
   * schema with them when it created it: the next attempt must make them again.
   */
  checkpoint(): () => void {
    const copies = this.copies.length;
    const notKept = this.notKept.length;
    const seen = this.seen.length;
    const estimatedBytes = this.estimatedBytes;
    const storeReady = this.storeReady;
    return () => {
      this.copies.splice(copies);
      this.notKept.splice(notKept);
      this.seen.splice(seen);
      this.estimatedBytes = estimatedBytes;
      this.storeReady = storeReady;
    };
  }

  /**
   * Before a destructive statement is sent: keeps what each of `statements` destroys.
   * `inTransaction` false (a migration run alone, outside a transaction): no copy could be
   * atomic with the destruction, so none is made and the report says so.
   */
  async beforeDestroy(
    statements: readonly { sql: string }[],
    migration: string,
    session: Session,
    mode: { dryRun: boolean; inTransaction: boolean },
  ): Promise<void> {
    if (mode.dryRun)
      for (const { sql } of statements) this.seen.push({ migration, sql, inTransaction: mode.inTransaction });
    const replies = await parseTexts(statements.map((statement) => statement.sql));
    // None of these statements has been sent yet, so what the catalog says about a table holds
    // for all of them: asked once per table, not per statement (a down() may send thousands).
    const facts = new Map<string, Promise<unknown>>();
    const once = <T>(key: string, read: () => Promise<T>): Promise<T> => {
      if (!facts.has(key)) facts.set(key, read());
      return facts.get(key) as Promise<T>;
    };
    for (const [index, reply] of replies.entries()) {
      const sql = statements[index].sql;
      const stmt = reply.ok ? reply.value.stmts?.[0]?.stmt : undefined;
      const reading = stmt ? targetsOf(stmt) : { unreadable: reply.ok ? 'no statement' : reply.message };
      if ('unreadable' in reading) {
        this.notKept.push(`${migration}: ${sql} (${reading.unreadable})`);
        continue;
      }
      if (reading.targets.length > 0 && !mode.inTransaction) {
        this.notKept.push(`${migration}: ${sql} (ran outside a transaction, so no copy could be atomic with it)`);
        continue;
      }
      for (const target of reading.targets) await this.keep(target, sql, migration, session, mode.dryRun, once);
    }
  }

  private async keep(
    target: Target,
    sql: string,
    migration: string,
    session: Session,
    dryRun: boolean,
    once: <T>(key: string, read: () => Promise<T>) => Promise<T>,
  ) {
    const named = JSON.stringify([target.table.schema ?? null, target.table.name]);
    const table = await once(`table ${named}`, () => resolveTable(session, target.table));
    if (!table) {
      // DROP ... IF EXISTS of nothing destroys nothing; anything else fails at the server on its own.
      return;
    }
    const columns = await once(`columns ${table.oid}`, () => columnsOf(session, table.oid));
    const destroyed = target.columns ?? [];
    if (target.kind === 'drop-column' && !columns.some((column) => column.name === destroyed[0])) return;
    if (table.heapBytes === 0 && (await this.keptNothing(target, sql, migration, session, table, dryRun))) return;
    const key = await once(`key ${table.oid} ${JSON.stringify(destroyed)}`, () => keyOf(session, table.oid, destroyed));
    const wholeRows = target.kind === 'drop-table' || target.kind === 'truncate' || target.kind === 'delete';
    const kept = wholeRows || key.length === 0 ? columns.map((column) => column.name) : destroyed;
    const select = copySelect(target, table, columns, [...new Set([...key, ...kept])]);
    const guess = await estimate(session, select, wholeRows && !target.rows?.where ? table.oid : undefined);
    this.estimatedBytes += guess.bytes;
    const report: CopyReport = {
      copy: '',
      migration,
      statement: sql,
      source: table.label,
      kind: target.kind,
      keyColumns: key,
      columns: key.length === 0 || wholeRows ? kept : destroyed,
      rows: guess.rows,
      bytes: guess.bytes,
      estimated: true,
    };
    if (this.estimatedBytes > this.options.maxBytes) {
      if (dryRun) {
        this.copies.push(report);
        return;
      }
      throw new PreserveRefusal(this.overLimit(report));
    }
    if (dryRun) {
      this.copies.push(report);
      return;
    }
    await lockAgainstWrites(session, table);
    this.copies.push(await this.copy(session, report, select, table));
  }

  /**
   * A table no row was ever written to (a table the rolled-back deploy created, say) has nothing
   * to keep: no copy table and no catalog row, which keeps such a rollback's lock hold short.
   * Checked again under the copy's lock, since a writer may have come first; false then, and
   * the copy is made as for any table.
   */
  private async keptNothing(
    target: Target,
    sql: string,
    migration: string,
    session: Session,
    table: ResolvedTable,
    dryRun: boolean,
  ): Promise<boolean> {
    if (!dryRun) {
      await lockAgainstWrites(session, table);
      if (!(await neverWritten(session, table.oid))) return false;
    }
    this.copies.push({
      copy: '',
      migration,
      statement: sql,
      source: table.label,
      kind: target.kind,
      keyColumns: [],
      columns: target.columns ?? [],
      rows: 0,
      bytes: 0,
      estimated: dryRun,
    });
    return true;
  }

  private async copy(session: Session, report: CopyReport, select: string, table: ResolvedTable): Promise<CopyReport> {
    const { schema } = this.options;
    if (!this.storeReady) await ensureStore(session, schema);
    this.storeReady = true;
    const name = `${this.id}_${this.copies.length + 1}_${table.name}`.slice(0, 63);
    const target = copySql(schema, name);
    const created = (await session.query(`CREATE TABLE ${target} AS ${select}`)) as { rowCount?: number | null };
    await closeTable(session, target);
    const { rows } = await session.query<{ bytes: string }>('SELECT pg_total_relation_size($1::regclass) AS bytes', [
      target,
    ]);
    const made = {
      ...report,
      copy: name,
      rows: created.rowCount ?? 0,
      bytes: Number(rows[0]?.bytes ?? 0),
      estimated: false,
    };
    await addToCatalog(session, schema, this.id, made, table, this.copies.length + 1);
    return made;
  }

  private overLimit(report: CopyReport): string {
    const sofar = this.copies.map((copy) => `${copy.kind} ${copy.source} (${formatSize(copy.bytes)})`);
    return `Refused: keeping what this rollback destroys needs an estimated ${formatSize(this.estimatedBytes)} (from the planner and pg_relation_size), over preserve-data-max (${formatSize(this.options.maxBytes)}). The largest part: ${report.kind} ${report.source}, about ${report.rows} row(s), ${formatSize(report.bytes)}${sofar.length ? `; before it: ${sofar.join(', ')}` : ''}. Nothing was destroyed: the statement was not sent. Two ways forward: raise preserve-data-max to at least ${formatSize(this.estimatedBytes)} (the copies live in the database, in schema ${this.options.schema}), or set preserve-data: false and rely on the pre-rollback snapshot alone.`;
  }

  /** What was kept; `committed` false: the run's transaction rolled back, and the copies with it. */
  report(committed: boolean): PreservationReport {
    return {
      ...(this.seen.length ? { statements: [...this.seen] } : {}),
      id: this.id,
      schema: this.options.schema,
      copies: committed ? [...this.copies] : this.copies.filter((copy) => copy.estimated),
      estimatedBytes: this.estimatedBytes,
      maxBytes: this.options.maxBytes,
      notKept: [...this.notKept],
    };
  }
}

/** Reads go on; writes wait (bounded by the session's lock_timeout) until the run commits. */
async function lockAgainstWrites(session: Session, table: ResolvedTable): Promise<void> {
  await session.query(`LOCK TABLE ${table.sql} IN SHARE ROW EXCLUSIVE MODE`);
}

/** The guard's hook: a Preserver's beforeDestroy with the guard's words for the mode. */
export function describePreserveError(error: unknown): string {
  if (error instanceof PreserveRefusal) return error.message;
  return `Keeping the data this statement destroys failed: ${errorMessage(error)}. Nothing was destroyed: the statement was not sent. To roll back without the copy, set preserve-data: false (the pre-rollback snapshot is then the only way back).`;
}
