// Who blocks the run. While an attempt runs, a second connection watches the run's session: when
// it waits on a lock, pg_blocking_pids() names the sessions it waits for, read then, because once
// lock_timeout cancels the statement the wait (and with it the answer) is gone.
import type pg from 'pg';
import { formatDuration } from '../common/duration.js';
import type { LockHolder, Session } from './lock.js';
import { escapeForLog } from '../common/logger.js';

/** A session the run waited for, as pg_stat_activity shows it to the run's user. */
export interface Blocker {
  pid: number;
  applicationName: string;
  user: string | null;
  /** Null when hidden: another role's session, and the run's user lacks pg_read_all_stats. */
  state: string | null;
  /** How long its transaction had been open when seen; null when hidden or not in a transaction. */
  transactionMs: number | null;
  /** Its current or last query, one line, cut at 200 characters; null when hidden or not shown. */
  query: string | null;
  /** Whether state, query and transaction start were hidden from the run's user. */
  hidden: boolean;
}

export const QUERY_CHARS = 200;

/** One attempt, for the log and the summary. */
export interface LockAttemptRecord {
  attempt: number;
  lockTimeoutMs: number;
  /** `done`, or what it waited for in vain. */
  outcome: 'done' | 'lock timeout' | 'failed';
  waitedAt?: string;
  blockers: Blocker[];
}

/** The few pg.Client calls the watcher makes: a plain connection of its own, never the run's. */
export type WatchConnection = Pick<pg.Client, 'query'>;

interface BlockerRow {
  pid: number;
  application_name: string | null;
  usename: string | null;
  state: string | null;
  transaction_ms: number | null;
  query: string | null;
  visible: boolean;
}

/** The sessions `pid` waits for now (empty when it waits for nothing). */
export async function readBlockers(
  connection: WatchConnection,
  pid: number,
  options: { showQueries: boolean },
): Promise<Blocker[]> {
  // Cheap first: pg_blocking_pids takes the lock manager's locks, so it runs only while we wait on one.
  const waiting = await connection.query<{ waiting: boolean }>(
    "SELECT coalesce(bool_or(wait_event_type = 'Lock'), false) AS waiting FROM pg_stat_activity WHERE pid = $1",
    [pid],
  );
  if (!waiting.rows[0]?.waiting) return [];
  const { rows } = await connection.query<BlockerRow>(
    `SELECT a.pid, a.application_name, a.usename, a.state,
            (extract(epoch FROM now() - a.xact_start) * 1000)::float8 AS transaction_ms,
            a.query,
            -- Without pg_read_all_stats (or the same role) state, query and xact_start are hidden.
            (a.state IS NOT NULL) AS visible
       FROM unnest(pg_blocking_pids($1)) AS b(pid)
       JOIN pg_stat_activity a ON a.pid = b.pid
      ORDER BY a.pid`,
    [pid],
  );
  return rows.map((row) => ({
    pid: Number(row.pid),
    applicationName: row.application_name ?? '',
    user: row.usename,
    state: row.visible ? row.state : null,
    transactionMs: row.visible && row.transaction_ms !== null ? Math.round(Number(row.transaction_ms)) : null,
    query: row.visible && options.showQueries && row.query ? oneLine(row.query) : null,
    hidden: !row.visible,
  }));
}

/** One line per blocker for the log, the summary and the failure. */
export function describeBlocker(blocker: Blocker): string {
  const parts = [
    `pid ${blocker.pid}`,
    `application_name ${JSON.stringify(blocker.applicationName)}`,
    blocker.user ? `user ${blocker.user}` : undefined,
    blocker.state ? `state ${blocker.state}` : undefined,
    blocker.transactionMs !== null ? `transaction open ${formatDuration(blocker.transactionMs)}` : undefined,
    blocker.query ? `query ${JSON.stringify(blocker.query)}` : undefined,
    blocker.hidden
      ? 'state and query hidden: grant pg_read_all_stats to the rollback\u2019s user to see them'
      : undefined,
  ].filter(Boolean);
  return parts.join(', ');
}

/**
 * Samples the run's session from a second connection while an attempt runs, and keeps the
 * last non-empty answer of the attempt. Sampling stops between attempts.
 */
export class BlockerWatch {
  private timer: NodeJS.Timeout | undefined;
  private seen: Blocker[] = [];
  private reading: Promise<void> | undefined;

  constructor(
    private readonly connection: WatchConnection,
    private readonly pid: number,
    private readonly options: { showQueries: boolean; intervalMs: number },
  ) {}

  /** Starts watching one attempt; forgets what the previous attempt saw. */
  start(intervalMs = this.options.intervalMs): void {
    this.stop();
    this.seen = [];
    this.timer = setInterval(() => {
      // One read at a time: a slow server must not pile the reads up.
      this.reading ??= this.sample().finally(() => (this.reading = undefined));
    }, intervalMs);
  }

  private async sample(): Promise<void> {
    const found = await readBlockers(this.connection, this.pid, this.options).catch(() => []);
    if (found.length > 0) this.seen = found;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** What the attempt waited for, as last seen (empty when no sample caught the wait). */
  async blockers(): Promise<Blocker[]> {
    this.stop();
    await this.reading;
    return this.seen;
  }
}

/**
 * Holders of the migrations tables' locks (src/migrations/lock.ts) as blockers, each with its
 * query when show-blocker-queries allows it and the run's user may see it. The queries are read
 * here, not by findLockHolders, so that the status a run reports never carries another session's
 * query text.
 */
export async function holdersAsBlockers(
  session: Session,
  holders: LockHolder[],
  options: { showQueries: boolean },
): Promise<Blocker[]> {
  const visible = holders.filter((holder) => holder.state !== null).map((holder) => holder.pid);
  const queries = new Map<number, string>();
  if (options.showQueries && visible.length > 0) {
    const { rows } = await session.query<{ pid: number; query: string | null }>(
      // state IS NOT NULL: hidden without pg_read_all_stats, as readBlockers decides.
      'SELECT pid, query FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND state IS NOT NULL',
      [visible],
    );
    for (const row of rows) if (row.query) queries.set(Number(row.pid), oneLine(row.query));
  }
  return holders.map((holder) => asBlocker(holder, queries.get(holder.pid) ?? null));
}

function asBlocker(holder: LockHolder, query: string | null): Blocker {
  return {
    pid: holder.pid,
    applicationName: holder.applicationName,
    user: holder.user,
    state: holder.state,
    transactionMs: holder.transactionSince ? Math.max(0, Date.now() - Date.parse(holder.transactionSince)) : null,
    query,
    hidden: holder.state === null,
  };
}

/** One line, control characters escaped, cut at QUERY_CHARS (review.ts has the same for our own SQL; importing it would close a cycle). */
function oneLine(text: string): string {
  const flat = escapeForLog(text).replace(/\s+/g, ' ').trim();
  return flat.length > QUERY_CHARS ? `${flat.slice(0, QUERY_CHARS - 1)}…` : flat;
}
