import { ConfigurationError } from '../common/errors.js';
import { systemClock, type Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import type { RegisterCleanup } from '../common/shutdown.js';
import type { DestroyingStatement, PreservationResult, PreserveOptions } from '../preserve/types.js';
import type { ConnectionSecurity } from '../postgres/connection.js';
import type { BatchClassifier, ClassifiedStatement, ClassifyOptions, StatementRisk } from '../sql/risk.js';
import type { MigrationSettings } from './knexfile.js';
import type { LocalCodeFile } from './local-code.js';
import type { PlanRequest, PlannedMigration, Segment } from './plan.js';
import type { LockAttemptRecord } from './blockers.js';
import type { CapturedStatement } from './sql-capture.js';
import type { StatusSnapshot } from './status.js';

/** What a run can do: the one list of modes. */
export const MODES = [
  'status',
  'plan',
  'rollback',
  'down',
  'unlock',
  'restore-data',
  'prune-data',
  'estimate-data',
] as const;
export type Mode = (typeof MODES)[number];

/** The modes that work on preserved data (src/preserve/): they read no migration file, plan or status. */
export const DATA_MODES: readonly string[] = ['restore-data', 'prune-data', 'estimate-data'] satisfies Mode[];

/**
 * The modes preserve-data applies to, and the ones that take a dry run's preserve-statements-file:
 * estimate-data sizes what would be kept; rollback and down check that size before their first down, then keep it.
 */
export const PRESERVE_MODES: readonly string[] = ['estimate-data', 'rollback', 'down'] satisfies Mode[];

/** The classifier's interface (src/sql/classify.ts); passed in so the action decides which classifier runs. */
export type Classifier = (statements: readonly string[], options?: ClassifyOptions) => Promise<ClassifiedStatement[]>;
export type { BatchClassifier, ClassifiedStatement, StatementRisk };

export interface RollbackOptions {
  /** PostgreSQL connection URL (secret: it and its password are masked and scrubbed). */
  databaseUrl: string;
  /** TLS and authentication: ssl-ca, iam-auth, aws-region (src/postgres/connection.ts). */
  security?: ConnectionSecurity;
  settings: MigrationSettings;
  /** What the run does. */
  mode: Mode;
  /** What to undo (plan, rollback, down), from steps / to / all / migration (one batch when none is given). */
  request: PlanRequest;
  /** Run the downs in a transaction that is always rolled back, and report their SQL. */
  dryRun: boolean;
  /** Commit even when the downs destroy data or remove security. */
  allowDestructive: boolean;
  /** Run a plan containing non-transactional migrations in segments. */
  allowNonAtomic: boolean;
  /** The plan-fingerprint of a reviewed plan: the run refuses if what it would undo differs. */
  expectedPlan?: string;
  /** The longest lock wait of any one attempt (lock_timeout), in ms; attempts start shorter and grow to it. */
  lockTimeoutMs: number;
  /** How long the run may keep retrying attempts that timed out on a lock, in ms. */
  lockWaitBudgetMs: number;
  /** idle_in_transaction_session_timeout of every session, in ms: a frozen runner's locks are freed after it. */
  sessionIdleTimeoutMs: number;
  /** Whether a blocker's query text is shown (it can carry data). */
  showBlockerQueries: boolean;
  /** statement_timeout of every session, in ms. */
  statementTimeoutMs: number;
  /** mode unlock: free Knex's lock row when no session holds it. */
  forceUnlock: boolean;
  /** Shown in pg_stat_activity so a blocked run can name us. */
  applicationName: string;
  classify: Classifier;
  /** Keep what the rollback destroys (src/preserve/); restore-data and prune-data read it too. Off when not given. */
  preserve?: PreserveOptions;
  /** mode estimate-data: a dry run's destroying statements (its preserve-statements-file), to size here. */
  destroyingStatements?: DestroyingStatement[];
  /** Optional: classifies every captured statement in one call; else `classify` is called once per statement. */
  classifyEach?: BatchClassifier;
  logger: Logger;
  /** Elapsed times in the log and the summary; the system clock when not given. */
  clock?: Clock;
  /** The jitter of the waits between attempts; Math.random when not given. */
  random?: () => number;
  /** Registers what SIGINT/SIGTERM must undo (cancel the running statement); nothing when not given. */
  onCleanup?: RegisterCleanup;
}

export function clockOf(options: RollbackOptions): Clock {
  return options.clock ?? systemClock;
}

/** A statement the run executed, attributed and classified. */
export interface ReviewedStatement extends CapturedStatement {
  risk: StatementRisk;
  reasons: string[];
  /** Not sent: the guard refused it, or a dry run left it out because its ROLLBACK would not undo it. */
  outcome?: 'refused' | 'would run';
}

export interface RollbackResult {
  mode: Mode;
  request: PlanRequest;
  dryRun: boolean;
  before?: StatusSnapshot;
  after?: StatusSnapshot;
  plan: PlannedMigration[];
  segments: Segment[];
  fingerprint: string;
  /** The caller's own files the planned migrations load (helpers outside node_modules): the fingerprint covers them. */
  localCode: LocalCodeFile[];
  /** Migrations whose down() committed. */
  rolledBack: string[];
  /** Batches fully undone and committed. */
  batches: number[];
  statements: ReviewedStatement[];
  committed: boolean;
  warnings: string[];
  /** What unlock (or a stuck-lock refusal) checked, line by line. */
  lockChecks: string[];
  notes: string[];
  /** Every attempt of the run (one when no lock was waited for in vain), with who blocked it. */
  attempts: LockAttemptRecord[];
  /** What was kept (rollback, down, dry run), restored (restore-data) or pruned (prune-data). */
  preservation?: PreservationResult;
}

/** What one stage of a run found out: the stage that owns a field fills it in. */
export type RunFragment = Partial<Omit<RollbackResult, 'mode' | 'request' | 'dryRun'>>;

const LISTS = ['warnings', 'lockChecks', 'notes'] as const;

/**
 * Combines fragments in the order the stages ran: lists are concatenated, and for every
 * other field the later stage's value wins when it has one.
 */
export function combine(...fragments: RunFragment[]): RunFragment {
  const combined: RunFragment = {};
  for (const fragment of fragments) {
    for (const [key, value] of Object.entries(fragment) as [keyof RunFragment, unknown][]) {
      if (value === undefined) continue;
      if ((LISTS as readonly string[]).includes(key)) {
        const list = key as (typeof LISTS)[number];
        combined[list] = [...(combined[list] ?? []), ...(value as string[])];
      } else {
        (combined as Record<string, unknown>)[key] = value;
      }
    }
  }
  return combined;
}

export function completeResult(options: RollbackOptions, fragment: RunFragment): RollbackResult {
  return {
    mode: options.mode,
    request: options.request,
    dryRun: options.dryRun,
    plan: [],
    segments: [],
    fingerprint: '',
    localCode: [],
    rolledBack: [],
    batches: [],
    statements: [],
    committed: false,
    warnings: [],
    lockChecks: [],
    notes: [],
    attempts: [],
    ...fragment,
  };
}

/**
 * An expected failure (refusal, failing down(), lock held): reported without a stack, with
 * what the run saw. Each stage it passes through adds what it knows (`within`); the entry
 * point completes it, so `result` is whole by the time a caller sees it.
 */
export class RollbackFailure extends ConfigurationError {
  result: RollbackResult;
  private fragment: RunFragment;

  constructor(message: string, fragment: RunFragment = {}) {
    super(message);
    this.fragment = fragment;
    this.result = fragment as RollbackResult;
  }

  /** Adds what an enclosing stage knew before this failure: the failing stage's own findings come last and win. */
  within(context: RunFragment): this {
    this.fragment = combine(context, this.fragment);
    this.result = this.fragment as RollbackResult;
    return this;
  }

  /** Adds what is known after the failure (the database read again, say). */
  followedBy(after: RunFragment): this {
    this.fragment = combine(this.fragment, after);
    this.result = this.fragment as RollbackResult;
    return this;
  }

  complete(options: RollbackOptions): this {
    this.result = completeResult(options, this.fragment);
    return this;
  }
}

/** Adds an enclosing stage's context to a RollbackFailure passing through; other errors pass unchanged. */
export function rethrowWithin(error: unknown, context: RunFragment): never {
  if (error instanceof RollbackFailure) throw error.within(context);
  throw error;
}
