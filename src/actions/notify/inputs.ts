import { ConfigurationError } from '../../common/errors.js';
import { getDuration, getEnum, getInteger, getLines, getSecret, getString } from '../common/inputs.js';
import { statuses, type RollbackStatus } from '../../notify/event.js';
import { Inputs } from './constants.js';

export interface NotifyInputs {
  /** Which moment of the rollback this notification reports. */
  status: RollbackStatus;
  /** Slack incoming-webhook URL (a secret). */
  slackWebhookUrl?: string;
  /** Generic JSON webhook URL (treated as a secret: such URLs usually embed a token). */
  webhookUrl?: string;
  /** The raw `details` JSON from earlier jobs; parsed by main so a malformed one only warns. */
  details?: string;
  /** Statuspage settings; undefined when no status page is configured. */
  statuspage?: { apiKey: string; pageId: string; componentIds: string[]; apiUrl: string };
  /** The maintenance the `started` notification opened, to close now. */
  maintenanceId?: string;
  /** Token that reads the run's approvals (`actions: read`). */
  githubToken?: string;
  /** Only the reviews of this environment name the approvers (the gate). */
  gateEnvironment?: string;
  /** Attempts per channel, the first included. */
  attempts: number;
  /** The most the whole notification may take, retries included. */
  timeoutMs: number;
}

function url(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigurationError(`Input "${name}" is not a URL: it must be an http(s) URL.`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new ConfigurationError(`Input "${name}" uses ${parsed.protocol}: it must be an http(s) URL.`);
  return value;
}

export function getInputs(): NotifyInputs {
  const status = getEnum(Inputs.Status, statuses);
  const slackWebhookUrl = url(Inputs.SlackWebhookUrl, getSecret(Inputs.SlackWebhookUrl));
  const webhookUrl = url(Inputs.WebhookUrl, getSecret(Inputs.WebhookUrl));
  const apiKey = getSecret(Inputs.StatuspageApiKey);
  const pageId = getString(Inputs.StatuspagePageId);
  const componentIds = getLines(Inputs.StatuspageComponentIds)
    .flatMap((line) => line.split(','))
    .map((id) => id.trim())
    .filter(Boolean);
  if (Boolean(apiKey) !== Boolean(pageId)) {
    throw new ConfigurationError(
      `Inputs "${Inputs.StatuspageApiKey}" and "${Inputs.StatuspagePageId}" go together: give both to use the status page, or neither.`,
    );
  }
  const apiUrl = url(Inputs.StatuspageApiUrl, getString(Inputs.StatuspageApiUrl)) ?? 'https://api.statuspage.io/v1';
  return {
    status,
    slackWebhookUrl,
    webhookUrl,
    details: getString(Inputs.Details),
    statuspage: apiKey && pageId ? { apiKey, pageId, componentIds, apiUrl } : undefined,
    maintenanceId: getString(Inputs.MaintenanceId),
    githubToken: getSecret(Inputs.GitHubToken),
    gateEnvironment: getString(Inputs.GateEnvironment),
    attempts: getInteger(Inputs.Attempts, { min: 1, max: 10 }) ?? 5,
    timeoutMs: getDuration(Inputs.Timeout, '60s', { min: 1000 }),
  };
}
