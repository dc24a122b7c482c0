import { startHttpFake, type Fault, type RecordedRequest } from './http-fake.js';

/**
 * A Slack incoming webhook: POST /services/<T>/<B>/<secret> with a JSON body. Answers as Slack
 * does: 200 "ok"; 400 "invalid_payload" for a body without text or blocks; 404 "no_service"
 * for an unknown hook path; 429 with Retry-After when told to throttle.
 */
export interface SlackWebhookFake {
  url: string;
  /** The hook URL to give the action (contains the secret path). */
  webhookUrl: string;
  /** The messages Slack accepted. */
  messages: Array<{ text?: string; blocks?: Array<Record<string, unknown>> }>;
  requests: RecordedRequest[];
  fail(...faults: Fault[]): void;
  close(): Promise<void>;
}

export async function startSlackWebhook(): Promise<SlackWebhookFake> {
  const hookPath = '/services/T000TEST/B000TEST/s3cr3tSlackHookToken';
  const messages: SlackWebhookFake['messages'] = [];
  const fake = await startHttpFake((request) => {
    if (request.method !== 'POST' || request.path !== hookPath) return { status: 404, body: 'no_service' };
    const payload = request.json as { text?: unknown; blocks?: unknown } | undefined;
    if (!payload || (typeof payload.text !== 'string' && !Array.isArray(payload.blocks)))
      return { status: 400, body: 'invalid_payload' };
    messages.push(payload as SlackWebhookFake['messages'][number]);
    return { status: 200, body: 'ok' };
  });
  return { ...fake, webhookUrl: `${fake.url}${hookPath}`, messages };
}
