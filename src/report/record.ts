import type { TimedJob } from '../github/run-jobs.js';
import type { Approval } from '../notify/event.js';
import { approverNames, toNameList } from '../notify/event.js';
import { jsonText } from '../common/json.js';

/**
 * The rollback record: the runbook's "Update Documentation", written by the pipeline so an
 * auditor months later finds who asked, who approved, why, what was undone (plan, fingerprint,
 * SQL), the snapshot taken before, the migrations before and after, and each step's outcome.
 */

export interface PlannedMigration {
  name: string;
  batch?: number;
  transaction?: boolean;
}

export interface StepOutcome {
  name: string;
  /** success | failure | cancelled | skipped, as GitHub reports a step's outcome, or free text. */
  outcome: string;
}

export interface RollbackRecord {
  schema: 'db-rollback-actions/record@1';
  result: string;
  repository: string | null;
  runUrl: string | null;
  runId: string | null;
  runAttempt: string | null;
  environment: string | null;
  database: string | null;
  method: string | null;
  ref: string | null;
  reason: string | null;
  requestedBy: string | null;
  approvedBy: string[];
  rejectedBy: string[];
  approvals: Approval[];
  plan: PlannedMigration[];
  planFingerprint: string | null;
  sql: string | null;
  /** The complete SQL (the rollback's sql-file outputs), kept beside the record under these names. */
  sqlFiles: string[];
  snapshotIdentifier: string | null;
  /** The rollback's preserve-id: the data it destroyed, kept in the database (mode restore-data puts it back). */
  preserveId: string | null;
  /** The rollback action's `preserved` output: per copy, source, kind, rows, bytes, copy. */
  preserved: PreservedCopy[];
  migrationsBefore: string[];
  migrationsAfter: string[];
  rolledBack: string[];
  steps: StepOutcome[];
  /** The run's jobs and steps with their times, from the GitHub API; [] when they could not be read. */
  jobs: TimedJob[];
  startedAt: string | null;
  finishedAt: string;
  durationSeconds: number | null;
  /** Anything else the workflow passed (a restore's endpoint, say), as given. */
  details: Record<string, unknown>;
  /** Inputs that could not be read as JSON, kept verbatim rather than dropped. */
  unparsed: Record<string, string>;
}

export interface RecordFields {
  /** Overall outcome: succeeded, failed, cancelled... */
  result?: string;
  environment?: string;
  /** The instance or cluster identifier, another name for the database, or host:port/database (never a URL). */
  database?: string;
  method?: string;
  /** The commit that was deployed, whose migration files were undone. */
  ref?: string;
  reason?: string;
  /** Who asked; default the run's triggering actor. */
  requestedBy?: string;
  approvals: Approval[];
  /** The rollback action's `plan` output (JSON). */
  plan?: unknown;
  planFingerprint?: string;
  sql?: string;
  /** Names of the complete-SQL files kept beside the record. */
  sqlFiles?: string[];
  snapshotIdentifier?: string;
  preserveId?: string;
  /** The rollback action's `preserved` output (JSON array). */
  preserved?: unknown;
  /** The rollback action's `applied` before the change (JSON array). */
  appliedBefore?: unknown;
  /** `applied` after the change, from a status run after the restart (JSON array). */
  appliedAfter?: unknown;
  /** The rollback action's `rolled-back` output (JSON array). */
  rolledBack?: unknown;
  /** Step outcomes: {"step": "success"|"failure"|...} or [{"name","outcome"}]. */
  steps?: unknown;
  jobs?: TimedJob[];
  /** When the run began (ISO 8601). */
  startedAt?: string;
  /** Any other JSON object to keep in the record. */
  details?: Record<string, unknown>;
  /** JSON inputs that did not parse, kept verbatim. */
  unparsed?: Record<string, string>;
}

export interface RunContext {
  repository?: string;
  runUrl?: string;
  runId?: string;
  runAttempt?: string;
}

function orNull(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value;
}

export function toPlan(value: unknown): PlannedMigration[] {
  if (!Array.isArray(value)) return toNameList(value).map((name) => ({ name }));
  return value.map((item) => {
    if (item && typeof item === 'object') {
      const entry = item as Record<string, unknown>;
      return {
        name: jsonText(entry.name ?? '(unnamed)'),
        ...(typeof entry.batch === 'number' ? { batch: entry.batch } : {}),
        ...(typeof entry.transaction === 'boolean' ? { transaction: entry.transaction } : {}),
      };
    }
    return { name: String(item) };
  });
}

/** Step outcomes as {"verify-backup": "success", ...} or [{"name", "outcome"}]. */
export function toSteps(value: unknown): StepOutcome[] {
  if (Array.isArray(value)) {
    return value.map((item) => {
      const entry = (item ?? {}) as Record<string, unknown>;
      return {
        name: jsonText(entry.name ?? '(unnamed)'),
        outcome: jsonText(entry.outcome ?? entry.conclusion ?? 'unknown'),
      };
    });
  }
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).map(([name, outcome]) => ({
      name,
      outcome: outcome === '' || outcome === null || outcome === undefined ? 'not run' : jsonText(outcome),
    }));
  }
  return [];
}

export function buildRecord(fields: RecordFields, run: RunContext, finishedAt: Date = new Date()): RollbackRecord {
  const started = fields.startedAt ? Date.parse(fields.startedAt) : Number.NaN;
  return {
    schema: 'db-rollback-actions/record@1',
    result: fields.result?.trim() || 'unknown',
    repository: orNull(run.repository),
    runUrl: orNull(run.runUrl),
    runId: orNull(run.runId),
    runAttempt: orNull(run.runAttempt),
    environment: orNull(fields.environment),
    database: orNull(fields.database),
    method: orNull(fields.method),
    ref: orNull(fields.ref),
    reason: orNull(fields.reason),
    requestedBy: orNull(fields.requestedBy),
    approvedBy: approverNames(fields.approvals),
    rejectedBy: approverNames(fields.approvals, 'rejected'),
    approvals: fields.approvals,
    plan: toPlan(fields.plan),
    planFingerprint: orNull(fields.planFingerprint),
    sql: orNull(fields.sql),
    sqlFiles: fields.sqlFiles ?? [],
    snapshotIdentifier: orNull(fields.snapshotIdentifier),
    preserveId: orNull(fields.preserveId),
    preserved: toPreserved(fields.preserved),
    migrationsBefore: toNameList(fields.appliedBefore),
    migrationsAfter: toNameList(fields.appliedAfter),
    rolledBack: toNameList(fields.rolledBack),
    steps: toSteps(fields.steps),
    jobs: fields.jobs ?? [],
    startedAt: Number.isNaN(started) ? null : new Date(started).toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Number.isNaN(started) ? null : Math.max(0, Math.round((finishedAt.getTime() - started) / 1000)),
    details: fields.details ?? {},
    unparsed: fields.unparsed ?? {},
  };
}

/** A file name that sorts by time and says what it is: rollback-production-20261129T031500Z-run4242-1. */
export function recordBaseName(record: RollbackRecord): string {
  const stamp = record.finishedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const environment = (record.environment ?? 'unknown').replace(/[^A-Za-z0-9._-]+/g, '-');
  const run = record.runId ? `-run${record.runId}-${record.runAttempt ?? '1'}` : '';
  return `rollback-${environment}-${stamp}${run}`;
}

/** One preserved copy as the record keeps it. */
export interface PreservedCopy {
  source: string;
  kind: string;
  rows: number | null;
  bytes: number | null;
  copy: string;
}

/** The `preserved` output as given; what is not a list of copies is dropped rather than trusted. */
function toPreserved(value: unknown): PreservedCopy[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    .map((item) => ({
      source: typeof item.source === 'string' ? item.source : '',
      kind: typeof item.kind === 'string' ? item.kind : '',
      rows: typeof item.rows === 'number' ? item.rows : null,
      bytes: typeof item.bytes === 'number' ? item.bytes : null,
      copy: typeof item.copy === 'string' ? item.copy : '',
    }));
}
