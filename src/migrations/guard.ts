// The statement guard: every statement a run's sessions send passes through here before it
// reaches PostgreSQL (the pg client's query is wrapped, below Knex). Each query string is
// split with PostgreSQL's parser and each statement classified; what the guard refuses is
// never sent. Where a statement comes from is known by origin (origin.ts), never by its text.
import type pg from 'pg';
import type { BatchClassifier, ClassifiedStatement } from '../sql/risk.js';
import { needsAllowDestructive } from '../sql/risk.js';
import { lockWaitOf, type Session } from './lock.js';
import { currentFrame, hasPendingTimers, knexTransactionSending, type DownFrame } from './origin.js';
import { renderStatement } from './render-sql.js';
import { describeBlocked, oneLine } from './review.js';
import { resolveCalls } from './guard-calls.js';
import type { ReviewedStatement } from './run-types.js';
import { serverMessage } from './sql-capture.js';
import { GuardRefusal, type BeforeDestroy, type GuardPolicy, type ObservedStatement } from './guard-contract.js';
import { recordRowCounts } from './row-counts.js';

export { GuardRefusal, type BeforeDestroy, type GuardPolicy, type ObservedStatement } from './guard-contract.js';

type QueryCallback = (error: Error | null, result?: unknown) => void;
type Decision =
  | { send: true; text?: string }
  | { send: false; refused: string }
  | { send: false; wouldRun: true }
  | { send: false; failed: Error };

/** How long settle waits for the timers a down() left running (a query fired from one is a late query). */
export const SETTLE_GRACE_MS = 2000;

/** The verdict cache's bounds: Knex's repeated statements are short and few. */
const CACHED_TEXT_LIMIT = 4096;
const CACHED_TEXTS = 10_000;

/** What the dry run returns for a statement it did not send, in place of the server's reply. */
const NOT_SENT = { command: 'SELECT', rowCount: 0, rows: [], fields: [], oid: 0 };

const REFUSED_TRANSACTION_CONTROL =
  "Transaction control from a migration is refused in an atomic run and in a dry run, whatever allow-destructive says: it would end or split the rollback's transaction, so what ran before it could no longer be undone with the rest. To roll back a migration that must leave the transaction, give it exports.config = { transaction: false } and run with allow-non-atomic: true (it then runs alone, outside a transaction).";

export class StatementGuard {
  /** Every statement migration code or Knex's bookkeeping sent, refused or did not send, in order. */
  readonly statements: ReviewedStatement[] = [];
  /** In observe mode: every statement, with where it came from. */
  readonly observed: ObservedStatement[] = [];
  /** The first refusal: once set, the run fails, even if the migration caught the error. */
  refusal: string | undefined;
  policy: GuardPolicy;
  /** Preservation's hook (src/preserve/), when the run keeps what it destroys. */
  beforeDestroy: BeforeDestroy | undefined;
  /**
   * A lock wait that timed out in beforeDestroy (the copy's LOCK TABLE): not a refusal but the
   * attempt loop's, like any statement's (lock-retry.ts). Kept here because a migration may
   * catch the error it gets and go on; cleared as each attempt starts.
   */
  lockWait: Error | undefined;
  private readonly raws = new WeakMap<object, Session>();
  /** Statements received and not yet sent or refused. */
  private inFlight = 0;
  private readonly verdicts = new Map<string, ClassifiedStatement[]>();

  constructor(
    private readonly classifyEach: BatchClassifier,
    private readonly bookkeepingTables: string[],
    policy: GuardPolicy,
  ) {
    this.policy = policy;
  }

  /**
   * Wraps a connection's query. Returns the unguarded session, for the action's own
   * statements (status, locks): those are ours, not a migration's.
   */
  install(connection: pg.Client): Session {
    const original = connection.query.bind(connection) as (...args: unknown[]) => unknown;
    const raw = { query: (sql: string, params?: unknown[]) => original(sql, params) } as Session;
    this.raws.set(connection, raw);
    let queue: Promise<void> = Promise.resolve();
    (connection as unknown as { query: unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
      const done = [values, callback].find((argument) => typeof argument === 'function') as QueryCallback | undefined;
      const text = typeof config === 'string' ? config : ((config as { text?: string }).text ?? '');
      const params =
        (typeof config === 'object' ? (config as { values?: unknown[] }).values : undefined) ??
        (Array.isArray(values) ? values : []);
      const origin = { frame: currentFrame(), knex: knexTransactionSending() };
      const reply = new Promise<unknown>((resolve, reject) => {
        // Checks run in the order statements were issued, so they reach pg's queue in that order.
        this.inFlight++;
        queue = queue.then(async () => {
          const recorded = this.statements.length;
          const decision = await this.decide(text, params, origin, raw).catch((error: unknown) => ({
            send: false as const,
            refused: `The statement guard failed on "${oneLine(text)}": ${error instanceof Error ? error.message : String(error)}`,
          }));
          this.inFlight--;
          if (decision.send) {
            const sent = decision.text === undefined ? config : decision.text;
            const mine = this.statements.slice(recorded);
            original(
              sent,
              ...(decision.text === undefined && typeof config === 'string' ? [values] : []),
              (error: Error | null, result: unknown) => {
                if (error) this.markFailed(recorded, error, text);
                if (error) reject(error);
                else {
                  recordRowCounts(mine, result);
                  resolve(result);
                }
              },
            );
          } else if ('wouldRun' in decision) {
            resolve(NOT_SENT);
          } else if ('failed' in decision) {
            reject(decision.failed);
          } else {
            reject(new GuardRefusal(decision.refused));
          }
        });
      });
      if (!done) return reply;
      reply.then(
        (result) => done(null, result),
        (error: Error) => done(error),
      );
      return undefined;
    };
    return raw;
  }

  /**
   * Before the run commits: waits for the timers the downs left behind (a query fired from
   * one is a late query, refused) and for every statement received to be decided. A timer
   * still pending after `graceMs` is a refusal: what it would send could not be checked.
   * Resolves with the frames whose timers were still pending (observe mode reports them).
   */
  async settle(
    frames: readonly DownFrame[],
    sleep: (ms: number) => Promise<void>,
    graceMs = SETTLE_GRACE_MS,
  ): Promise<DownFrame[]> {
    for (let waited = 0; ; waited += 5) {
      const pending = frames.filter(hasPendingTimers);
      if (pending.length === 0 && this.inFlight === 0) return [];
      if (waited >= graceMs && pending.length > 0) {
        if (!this.policy.observe)
          this.refusal ??= `${pending.map((frame) => frame.migration).join(', ')} left a timer running after ${pending.length === 1 ? 'its' : 'their'} down() returned (after waiting ${graceMs} ms): what it would send later could not be checked, so the run does not commit.`;
        return pending;
      }
      await sleep(5);
    }
  }

  /** The unguarded session of a guarded connection. */
  rawOf(connection: pg.Client): Session {
    return this.raws.get(connection) ?? connection;
  }

  /** The first statement the server failed, as describeFailure reads it. */
  failed(): ReviewedStatement | undefined {
    return this.statements.find((statement) => statement.error);
  }

  private markFailed(from: number, error: Error, text: string): void {
    for (const statement of this.statements.slice(from)) {
      if (statement.outcome) continue;
      statement.error = serverMessage(error, [text]);
      return;
    }
  }

  private refuse(message: string): Decision {
    this.refusal ??= message;
    return { send: false, refused: message };
  }

  private async decide(
    text: string,
    params: readonly unknown[],
    origin: { frame?: DownFrame; knex?: { nested: boolean } },
    raw: Session,
  ): Promise<Decision> {
    const { frame } = origin;
    if (this.policy.observe) return this.observe(text, params, origin, raw);
    if (origin.knex) return this.knexTransactionStatement(text, origin.knex, frame);
    if (frame?.returned) {
      const message = `${frame.migration} sent a query after its down() returned: ${oneLine(text)}. Nothing it sends then is part of the rollback; the run fails.`;
      this.record([{ sql: text, risk: 'destructive', reasons: ['sent after its down() returned'] }], frame, 'refused');
      return this.refuse(message);
    }
    if (this.refusal) {
      // Outside a transaction Knex set its lock row for good: it must free it on its way out, or
      // every later run would find the lock set with no holder. (In a transaction it is rolled back.)
      if (!frame && !this.policy.atomic) {
        const pieces = await this.classify(text);
        if (pieces.every((piece) => piece.risk === 'bookkeeping')) {
          this.record(pieces, frame);
          return { send: true };
        }
      }
      // Knex freeing its lock row on the way out is not news; what a migration still sends is.
      if (frame)
        this.record(
          [{ sql: text, risk: 'destructive', reasons: ['not sent: the run was already refused'] }],
          frame,
          'refused',
        );
      return { send: false, refused: `Not sent: the run was already refused. ${this.refusal}` };
    }
    const verdicts = await this.verdictsOf(text, params, raw);
    const recorded = this.statements.length;
    const decision = this.judge(verdicts, frame);
    const destroying = verdicts.filter((verdict) => verdict.risk === 'destructive');
    if (!decision.send || !frame || !this.beforeDestroy || destroying.length === 0) return decision;
    try {
      const { dryRun, atomic } = this.policy;
      await this.beforeDestroy(destroying, frame.migration, raw, { dryRun, inTransaction: atomic });
    } catch (error) {
      const waited = lockWaitOf(error);
      if (waited) {
        // Not sent, and not refused: the attempt ends on this lock wait and runs again.
        this.lockWait ??= waited;
        for (const statement of this.statements.slice(recorded)) {
          statement.outcome = 'refused';
          statement.error = `not sent: waited longer than lock_timeout to lock its table for the copy that keeps what it destroys (${waited.message})`;
        }
        return { send: false, failed: waited };
      }
      for (const statement of this.statements.slice(recorded)) statement.outcome = 'refused';
      return this.refuse(error instanceof Error ? error.message : String(error));
    }
    return decision;
  }

  /** What each statement of a query string does: the classifier's verdict, with the functions it calls resolved. */
  private async verdictsOf(text: string, params: readonly unknown[], raw: Session): Promise<ClassifiedStatement[]> {
    const pieces = await this.classify(text);
    const verdicts = await Promise.all(pieces.map((piece) => resolveCalls(piece, raw)));
    if (pieces.length === 1 && params.length > 0)
      verdicts[0] = { ...verdicts[0], sql: renderStatement(verdicts[0].sql, params) };
    return verdicts;
  }

  /**
   * Observe mode: sends every statement and keeps it, decided as a run decides it, with its
   * frame. What cannot be decided (the parser failed, a lookup failed in an aborted
   * transaction) is still sent, and kept as unreadable.
   */
  private async observe(
    text: string,
    params: readonly unknown[],
    origin: { frame?: DownFrame; knex?: { nested: boolean } },
    raw: Session,
  ): Promise<Decision> {
    const verdicts: ClassifiedStatement[] = origin.knex
      ? [{ sql: text, risk: 'safe', reasons: [] }]
      : await this.verdictsOf(text, params, raw).catch((error: unknown) => [
          {
            sql: renderStatement(text, params),
            risk: 'destructive' as const,
            reasons: [`could not be classified: ${error instanceof Error ? error.message : String(error)}`],
          },
        ]);
    const { frame } = origin;
    this.record(verdicts, frame).forEach((statement, index) =>
      this.observed.push({
        statement,
        frame,
        late: frame?.returned === true,
        knexTransaction: origin.knex !== undefined,
        opaqueCode: verdicts[index].effects?.opaqueCode,
      }),
    );
    return { send: true };
  }

  /**
   * The parser's verdicts on a query string. Knex sends the same text again and again (its
   * bookkeeping per migration, with bindings as parameters), and a verdict depends only on
   * the text: each distinct text goes to the parser once, which keeps the round trips out of
   * the time the transaction holds its locks. What calls a function is still resolved per use.
   */
  private async classify(text: string): Promise<ClassifiedStatement[]> {
    const cached = this.verdicts.get(text);
    if (cached) return cached;
    const [pieces] = await this.classifyEach([text], { bookkeepingTables: this.bookkeepingTables });
    if (text.length <= CACHED_TEXT_LIMIT && this.verdicts.size < CACHED_TEXTS) this.verdicts.set(text, pieces);
    return pieces;
  }

  private judge(verdicts: ClassifiedStatement[], frame: DownFrame | undefined): Decision {
    const { policy } = this;
    const control = verdicts.find((verdict) => verdict.effects?.transactionControl);
    if (control && (policy.atomic || policy.dryRun || !frame)) {
      this.record(verdicts, frame, 'refused');
      return this.refuse(
        `${frame?.migration ?? 'A statement outside any down()'} sent "${oneLine(control.sql)}". ${REFUSED_TRANSACTION_CONTROL}`,
      );
    }
    if (!frame) {
      const foreign = verdicts.find((verdict) => verdict.risk !== 'bookkeeping' && verdict.risk !== 'safe');
      if (foreign) {
        this.record(verdicts, frame, 'refused');
        return this.refuse(
          `A statement was sent outside any down(), where only Knex's bookkeeping on ${this.bookkeepingTables.join(' and ')} runs: ${oneLine(foreign.sql)} (${foreign.risk}: ${foreign.reasons.join('; ')}). It was not sent; the run fails.`,
        );
      }
      this.record(verdicts, frame);
      return { send: true };
    }
    const blocked = verdicts.filter((verdict) => needsAllowDestructive(verdict.risk));
    // A dry run goes on past these (inside its transaction, or not sent when its ROLLBACK
    // could not undo them), so that it can list every one; it fails on them at the end.
    if (blocked.length > 0 && !policy.allowDestructive && !policy.dryRun) {
      const reviewed = this.record(verdicts, frame, 'refused');
      const first = reviewed.find((statement) => needsAllowDestructive(statement.risk))!;
      return this.refuse(
        `Refused: the downs would destroy data or remove security, and allow-destructive is false. The statement was not sent; ${policy.atomic ? 'the transaction was rolled back and nothing was changed' : 'this down() runs outside a transaction, so what it sent before this statement stays'}. A dry run lists every such statement. Review them, then re-run with allow-destructive: true:\n- ${describeBlocked(first)}`,
      );
    }
    if (policy.dryRun) return this.dryRunDecision(verdicts, frame);
    this.record(verdicts, frame);
    return { send: true };
  }

  /** A dry run sends what its ROLLBACK undoes, and records the rest as "would run". */
  private dryRunDecision(verdicts: ClassifiedStatement[], frame: DownFrame): Decision {
    const irreversible = verdicts.filter((verdict) => verdict.effects?.irreversible?.length);
    if (irreversible.length === 0) {
      this.record(verdicts, frame);
      return { send: true };
    }
    const sendable = verdicts.filter((verdict) => !verdict.effects?.irreversible?.length);
    for (const verdict of verdicts) this.record([verdict], frame, sendable.includes(verdict) ? undefined : 'would run');
    if (sendable.length === 0) return { send: false, wouldRun: true };
    // Several statements in one string, some not sendable: the others go alone (no parameters: a multi-statement string has none).
    return { send: true, text: sendable.map((verdict) => verdict.sql).join(';\n') };
  }

  private knexTransactionStatement(text: string, knex: { nested: boolean }, frame: DownFrame | undefined): Decision {
    if (frame && !frame.returned && (knex.nested || !this.policy.atomic)) {
      // A migration's own knex.transaction(): Knex's savepoints inside the run's transaction.
      this.record([{ sql: text, risk: 'safe', reasons: [] }], frame);
      return { send: true };
    }
    if (frame) {
      this.record([{ sql: text, risk: 'destructive', reasons: ["ends the rollback's transaction"] }], frame, 'refused');
      return this.refuse(
        `${frame.migration} ${frame.returned ? 'after its down() returned, ' : ''}ended the rollback's own transaction ("${oneLine(text)}" through the Knex transaction its down() was given). ${REFUSED_TRANSACTION_CONTROL}`,
      );
    }
    if (this.refusal && /^\s*commit\b/i.test(text)) {
      // The backstop: nothing commits once a statement was refused, whoever asks.
      return { send: false, refused: `Not committed: ${this.refusal}` };
    }
    return { send: true };
  }

  private record(
    verdicts: ClassifiedStatement[],
    frame: DownFrame | undefined,
    outcome?: ReviewedStatement['outcome'],
  ): ReviewedStatement[] {
    const reviewed = verdicts.map((verdict) => ({
      sql: verdict.sql,
      migration: frame?.migration,
      risk: verdict.risk,
      reasons: verdict.risk === 'safe' || verdict.risk === 'bookkeeping' ? [] : verdict.reasons,
      ...(outcome ? { outcome } : {}),
    }));
    this.statements.push(...reviewed);
    return reviewed;
  }
}
