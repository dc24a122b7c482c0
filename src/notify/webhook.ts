import { approverNames, restoreHint, type RollbackEvent } from './event.js';
import { requestWithRetry, type HttpResult, type RetryOptions } from './http-retry.js';

/**
 * A generic JSON webhook (PagerDuty Events via a relay, an internal bot, a Teams
 * workflow...): one flat, documented object, versioned so receivers can rely on it.
 */
export interface WebhookPayload {
  schema: 'db-rollback-actions/notification@1';
  status: RollbackEvent['status'];
  repository: string | null;
  environment: string | null;
  method: string | null;
  reason: string | null;
  ref: string | null;
  database: string | null;
  requestedBy: string | null;
  approvedBy: string[];
  rejectedBy: string[];
  migrations: string[];
  snapshotIdentifier: string | null;
  /** The rollback's preserve-id when it kept what it destroyed; `restore` says how to put it back. */
  preserveId: string | null;
  restore: string | null;
  planFingerprint: string | null;
  message: string | null;
  runUrl: string | null;
  sentAt: string;
  /** The workflow's `details`, as given. */
  details: Record<string, unknown>;
}

export function webhookPayload(event: RollbackEvent, now: Date = new Date()): WebhookPayload {
  return {
    schema: 'db-rollback-actions/notification@1',
    status: event.status,
    repository: event.repository ?? null,
    environment: event.environment ?? null,
    method: event.method ?? null,
    reason: event.reason ?? null,
    ref: event.ref ?? null,
    database: event.database ?? null,
    requestedBy: event.requestedBy ?? null,
    approvedBy: approverNames(event.approvals),
    rejectedBy: approverNames(event.approvals, 'rejected'),
    migrations: event.migrations,
    snapshotIdentifier: event.snapshotIdentifier ?? null,
    preserveId: event.preserveId ?? null,
    restore: restoreHint(event) ?? null,
    planFingerprint: event.planFingerprint ?? null,
    message: event.message ?? null,
    runUrl: event.runUrl ?? null,
    sentAt: now.toISOString(),
    details: event.details,
  };
}

export async function postToWebhook(url: string, event: RollbackEvent, retry: RetryOptions = {}): Promise<HttpResult> {
  return requestWithRetry(
    url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'db-rollback-actions-notify' },
      body: JSON.stringify(webhookPayload(event)),
    },
    { label: 'Webhook', ...retry },
  );
}
