import type { RollbackEvent } from './event.js';
import type { HttpResult, RetryOptions } from './http-retry.js';
import { postToSlack } from './slack.js';
import { closeMaintenance, openMaintenance, statuspageAction, type StatuspageConfig } from './statuspage.js';
import { postToWebhook } from './webhook.js';

/**
 * Sends one notification to every configured channel. Nothing here throws for a channel
 * that fails: the caller turns failures into warnings, because a Slack outage must never
 * fail (or, worse, stop) a rollback.
 */

export type Channel = 'slack' | 'webhook' | 'statuspage';

export interface Delivery {
  channel: Channel;
  ok: boolean;
  /** What happened, for the log and the summary: "HTTP 200 after 3 attempts". */
  detail: string;
  attempts: number;
}

export interface NotifyRequest {
  event: RollbackEvent;
  slackWebhookUrl?: string;
  webhookUrl?: string;
  statuspage?: StatuspageConfig;
  /** The maintenance opened by the `started` notification, to close at the end. */
  maintenanceId?: string;
  retry?: RetryOptions;
  now?: Date;
}

export interface NotifyResult {
  deliveries: Delivery[];
  /** Opened now, or the one given; undefined when there is none. */
  maintenanceId?: string;
  /** Channels deliberately not used for this status, with why. */
  skipped: Array<{ channel: Channel; why: string }>;
}

function describe(http: HttpResult): string {
  const tries = http.attempts === 1 ? '' : ` after ${http.attempts} attempts`;
  if (http.status === 0) return `no answer (${http.error ?? 'unknown error'})${tries}`;
  const body = http.ok ? '' : `: ${http.body.replace(/\s+/g, ' ').trim().slice(0, 200)}`;
  return `HTTP ${http.status}${tries}${body}`;
}

function delivery(channel: Channel, http: HttpResult): Delivery {
  return { channel, ok: http.ok, detail: describe(http), attempts: http.attempts };
}

export async function sendNotifications(request: NotifyRequest): Promise<NotifyResult> {
  const { event } = request;
  const jobs: Array<Promise<Delivery>> = [];
  const skipped: NotifyResult['skipped'] = [];
  let maintenanceId = request.maintenanceId;

  if (request.slackWebhookUrl)
    jobs.push(postToSlack(request.slackWebhookUrl, event, request.retry).then((http) => delivery('slack', http)));
  if (request.webhookUrl)
    jobs.push(postToWebhook(request.webhookUrl, event, request.retry).then((http) => delivery('webhook', http)));

  if (request.statuspage) {
    const action = statuspageAction(event.status);
    if (action === 'none') {
      skipped.push({
        channel: 'statuspage',
        why: 'a requested rollback is not approved yet: the maintenance window opens when it starts.',
      });
    } else if (action === 'open') {
      if (maintenanceId) {
        skipped.push({
          channel: 'statuspage',
          why: `maintenance ${maintenanceId} is already open (a re-run): not opening a second one.`,
        });
      } else {
        jobs.push(
          openMaintenance(request.statuspage, event, request.retry, request.now).then((result) => {
            maintenanceId = result.maintenanceId;
            const d = delivery('statuspage', result.http);
            if (d.ok && !result.maintenanceId)
              return { ...d, ok: false, detail: `${d.detail}, but the answer carried no incident id` };
            return { ...d, detail: `${d.detail}; opened maintenance ${result.maintenanceId}` };
          }),
        );
      }
    } else if (!maintenanceId) {
      skipped.push({
        channel: 'statuspage',
        why: 'no maintenance-id was given, so there is no maintenance window to close (did the started notification open one?).',
      });
    } else {
      const id = maintenanceId;
      jobs.push(
        closeMaintenance(request.statuspage, id, event, request.retry).then((result) => {
          const d = delivery('statuspage', result.http);
          return { ...d, detail: `${d.detail}; ${d.ok ? 'closed' : 'could not close'} maintenance ${id}` };
        }),
      );
    }
  }

  const deliveries = await Promise.all(jobs);
  return { deliveries, maintenanceId, skipped };
}
