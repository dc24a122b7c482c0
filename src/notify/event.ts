import { jsonText } from '../common/json.js';
/**
 * What a notification says, gathered once from the `details` JSON the workflow passes
 * and the run's own environment, so Slack, the generic webhook and the status page all
 * tell the same story.
 */

export const statuses = ['requested', 'started', 'succeeded', 'failed', 'cancelled'] as const;
export type RollbackStatus = (typeof statuses)[number];

export interface Approval {
  /** The GitHub login of the reviewer. */
  user: string;
  /** `approved` or `rejected` (kept as GitHub gives it). */
  state: string;
  environments: string[];
  comment?: string;
}

export interface RollbackEvent {
  status: RollbackStatus;
  repository?: string;
  environment?: string;
  method?: string;
  reason?: string;
  ref?: string;
  database?: string;
  requestedBy?: string;
  approvals: Approval[];
  /** The migrations undone (or, before the run, planned to be undone), in order. */
  migrations: string[];
  snapshotIdentifier?: string;
  /** The rollback's preserve-id: what it destroyed was kept in the database and can be restored. */
  preserveId?: string;
  planFingerprint?: string;
  /** A free-text line from the workflow, e.g. the failing step. */
  message?: string;
  runUrl?: string;
  /** Every key of `details`, for the generic webhook, which forwards them as given. */
  details: Record<string, unknown>;
}

/** Parses the `details` input: a JSON object, or empty. Throws with a readable message otherwise. */
export function parseDetails(text: string | undefined): Record<string, unknown> {
  if (!text || !text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`it is not JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error('it must be a JSON object such as {"reason": "...", "environment": "production"}');
  return value as Record<string, unknown>;
}

/**
 * A list of migration names given as a JSON array, a JSON array inside a string
 * (a job output embedded with toJSON), or lines / commas.
 */
export function toNameList(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value))
    return value
      .flatMap((item) =>
        typeof item === 'object' && item && 'name' in item
          ? [String((item as { name: unknown }).name)]
          : [String(item)],
      )
      .filter(Boolean);
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('[')) {
      try {
        return toNameList(JSON.parse(text));
      } catch {
        // not JSON after all: fall through to a plain list
      }
    }
    return text
      .split(/[\n,]/)
      .map((item) => item.trim())
      .filter(Boolean);
  }
  return [jsonText(value)];
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const result = jsonText(value).trim();
  return result === '' ? undefined : result;
}

export interface RunEnvironment {
  GITHUB_SERVER_URL?: string;
  GITHUB_REPOSITORY?: string;
  GITHUB_RUN_ID?: string;
  GITHUB_RUN_ATTEMPT?: string;
  GITHUB_ACTOR?: string;
  GITHUB_TRIGGERING_ACTOR?: string;
}

/** The run's page: where a reader of the notification goes for everything else. */
export function runUrl(env: RunEnvironment): string | undefined {
  if (!env.GITHUB_REPOSITORY || !env.GITHUB_RUN_ID) return undefined;
  const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/$/, '');
  const attempt = env.GITHUB_RUN_ATTEMPT && env.GITHUB_RUN_ATTEMPT !== '1' ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : '';
  return `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}${attempt}`;
}

export function buildEvent(
  status: RollbackStatus,
  details: Record<string, unknown>,
  approvals: Approval[],
  env: RunEnvironment,
): RollbackEvent {
  return {
    status,
    repository: env.GITHUB_REPOSITORY,
    environment: text(details.environment),
    method: text(details.method),
    reason: text(details.reason),
    ref: text(details.ref),
    database: text(details.database),
    // The person who pressed the button; a re-run is asked for by whoever re-ran it.
    requestedBy: text(details['requested-by']) ?? text(env.GITHUB_TRIGGERING_ACTOR) ?? text(env.GITHUB_ACTOR),
    approvals,
    migrations: toNameList(details.migrations),
    snapshotIdentifier: text(details['snapshot-identifier']),
    preserveId: text(details['preserve-id']),
    planFingerprint: text(details['plan-fingerprint']),
    message: text(details.message),
    runUrl: runUrl(env),
    details,
  };
}

export const statusWords: Record<RollbackStatus, { emoji: string; headline: string }> = {
  requested: { emoji: ':hourglass_flowing_sand:', headline: 'Migration rollback requested, waiting for approval' },
  started: { emoji: ':construction:', headline: 'Migration rollback approved and starting' },
  succeeded: { emoji: ':white_check_mark:', headline: 'Migration rollback succeeded' },
  failed: { emoji: ':x:', headline: 'Migration rollback FAILED' },
  cancelled: { emoji: ':no_entry_sign:', headline: 'Migration rollback cancelled' },
};

/** "alice, bob" from approved reviews; rejected ones are named separately by the callers. */
export function approverNames(approvals: Approval[], state: string = 'approved'): string[] {
  return [...new Set(approvals.filter((approval) => approval.state === state).map((approval) => approval.user))];
}

/** After a rollback that kept data: that it did, and the one step that puts it back. */
export function restoreHint(event: RollbackEvent): string | undefined {
  if (event.status !== 'succeeded' || !event.preserveId) return undefined;
  return `Data the rollback destroyed was preserved in the database (preserve-id ${event.preserveId}). Once the fix is deployed and the migrations re-applied, put it back with the rollback action: mode: restore-data, preserve-id: ${event.preserveId}.`;
}
