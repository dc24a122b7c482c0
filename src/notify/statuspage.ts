import type { RollbackEvent } from './event.js';
import { requestWithRetry, type HttpResult, type RetryOptions } from './http-retry.js';

/**
 * The runbook's "Update status page to maintenance mode", through the Statuspage REST API
 * (https://developer.statuspage.io): a maintenance is an incident with
 * `impact_override: maintenance` and the scheduled statuses (in_progress ... completed).
 * It opens when the approved rollback starts and closes with the outcome; the components
 * named go `under_maintenance`, then back to `operational`.
 */

export interface StatuspageConfig {
  apiKey: string;
  pageId: string;
  componentIds: string[];
  /** https://api.statuspage.io/v1 unless a test or a proxy says otherwise. */
  apiUrl: string;
}

export interface MaintenanceResult {
  http: HttpResult;
  /** The incident id of the maintenance, when one was opened or closed. */
  maintenanceId?: string;
}

function headers(config: StatuspageConfig): Record<string, string> {
  return { authorization: `OAuth ${config.apiKey}`, 'content-type': 'application/json' };
}

function base(config: StatuspageConfig): string {
  return `${config.apiUrl.replace(/\/$/, '')}/pages/${encodeURIComponent(config.pageId)}/incidents`;
}

function componentStates(ids: string[], state: string): Record<string, string> {
  return Object.fromEntries(ids.map((id) => [id, state]));
}

/** A rollback has no known end: the window is scheduled for an hour and closed by the last notification. */
export function maintenanceBody(event: RollbackEvent, config: StatuspageConfig, now: Date): Record<string, unknown> {
  const until = new Date(now.getTime() + 60 * 60 * 1000);
  const what = event.environment ? `${event.environment} database maintenance` : 'Database maintenance';
  return {
    incident: {
      name: `${what}: migration rollback`,
      status: 'in_progress',
      impact_override: 'maintenance',
      scheduled_for: now.toISOString(),
      scheduled_until: until.toISOString(),
      scheduled_remind_prior: false,
      scheduled_auto_in_progress: false,
      scheduled_auto_completed: false,
      // The reason is internal (it may name tickets and people): subscribers get a neutral line.
      body: 'We are performing maintenance on our database. Some features may be briefly unavailable.',
      component_ids: config.componentIds,
      components: componentStates(config.componentIds, 'under_maintenance'),
      deliver_notifications: true,
    },
  };
}

export function closingBody(event: RollbackEvent, config: StatuspageConfig): Record<string, unknown> {
  const body =
    event.status === 'succeeded'
      ? 'The maintenance is complete and all systems are operating normally.'
      : 'The maintenance window has ended. Our engineers are following up on the remaining work.';
  return {
    incident: {
      status: 'completed',
      body,
      components: componentStates(
        config.componentIds,
        event.status === 'succeeded' ? 'operational' : 'degraded_performance',
      ),
      deliver_notifications: true,
    },
  };
}

export async function openMaintenance(
  config: StatuspageConfig,
  event: RollbackEvent,
  retry: RetryOptions = {},
  now: Date = new Date(),
): Promise<MaintenanceResult> {
  const http = await requestWithRetry(
    base(config),
    { method: 'POST', headers: headers(config), body: JSON.stringify(maintenanceBody(event, config, now)) },
    { label: 'Statuspage', ...retry },
  );
  if (!http.ok) return { http };
  try {
    const id = (JSON.parse(http.body) as { id?: unknown }).id;
    return { http, maintenanceId: typeof id === 'string' && id ? id : undefined };
  } catch {
    return { http };
  }
}

export async function closeMaintenance(
  config: StatuspageConfig,
  maintenanceId: string,
  event: RollbackEvent,
  retry: RetryOptions = {},
): Promise<MaintenanceResult> {
  const http = await requestWithRetry(
    `${base(config)}/${encodeURIComponent(maintenanceId)}`,
    { method: 'PATCH', headers: headers(config), body: JSON.stringify(closingBody(event, config)) },
    { label: 'Statuspage', ...retry },
  );
  return { http, maintenanceId };
}

/** Which status-page call a notification status makes: open on start, close at the end. */
export function statuspageAction(status: RollbackEvent['status']): 'open' | 'close' | 'none' {
  if (status === 'started') return 'open';
  if (status === 'succeeded' || status === 'failed' || status === 'cancelled') return 'close';
  return 'none';
}
