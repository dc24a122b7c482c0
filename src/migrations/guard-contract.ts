// What the statement guard (guard.ts) is given and what it reports: its policy, the statements
// it observed for verify-reversible, the hook preservation registers, and the error a refused
// statement becomes. Kept apart so the modules that configure or read the guard need not load it.
import type { ClassifiedStatement } from '../sql/risk.js';
import type { DownFrame } from './origin.js';
import type { Session } from './lock.js';
import type { ReviewedStatement } from './run-types.js';

/** What the guard lets through; changed between segments of a non-atomic run. */
export interface GuardPolicy {
  /** Inside the run's one transaction (or a dry run's): transaction control from migration code is refused. */
  atomic: boolean;
  dryRun: boolean;
  allowDestructive: boolean;
  /**
   * Observe only (verify-reversible): every statement is sent and kept in `observed` with where it
   * came from; nothing is refused, beforeDestroy is not called, a timer left running is reported by settle.
   */
  observe?: boolean;
}

/** A statement the guard saw in observe mode, and where it came from. */
export interface ObservedStatement {
  /** As the guard records it; rowCount and error are filled in once the server answered. */
  statement: ReviewedStatement;
  /** The frame it was sent from (an up() or a down()); undefined: Knex's bookkeeping, or anything outside a frame. */
  frame?: DownFrame;
  /** Sent after its frame's function had returned (from a timer, say). */
  late: boolean;
  /** Knex's own BEGIN, COMMIT, ROLLBACK or SAVEPOINT of a transaction. */
  knexTransaction: boolean;
  /** Code it runs whose effect on rows the statement does not show (the classifier's and resolveCalls' verdict). */
  opaqueCode?: string[];
}

/**
 * Called before a destructive statement the guard lets through is sent, on the run's own
 * session (preservation, src/preserve/). When it throws, the statement is refused instead.
 */
export type BeforeDestroy = (
  statements: readonly ClassifiedStatement[],
  migration: string,
  session: Session,
  mode: { dryRun: boolean; inTransaction: boolean },
) => Promise<void>;

/** A statement the guard did not send: the error the migration (and Knex) see. */
export class GuardRefusal extends Error {
  override readonly name = 'GuardRefusal';
}
