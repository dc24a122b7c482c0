import { startHttpFake, type Fault, type RecordedRequest } from './http-fake.js';

/** A receiver of JSON webhooks: 204 for a JSON POST to /hook, 415 for anything not JSON. */
export interface GenericWebhookFake {
  url: string;
  webhookUrl: string;
  received: unknown[];
  requests: RecordedRequest[];
  fail(...faults: Fault[]): void;
  close(): Promise<void>;
}

export async function startGenericWebhook(): Promise<GenericWebhookFake> {
  const received: unknown[] = [];
  const fake = await startHttpFake((request) => {
    if (request.path !== '/hook') return { status: 404, body: 'not found' };
    if (request.method !== 'POST') return { status: 405, body: 'method not allowed' };
    if (!String(request.headers['content-type'] ?? '').includes('application/json') || request.json === undefined)
      return { status: 415, body: 'expected JSON' };
    received.push(request.json);
    return { status: 204 };
  });
  return { ...fake, webhookUrl: `${fake.url}/hook`, received };
}
