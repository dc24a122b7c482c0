import { ConfigurationError, errorMessage } from '../../common/errors.js';
import { readApprovals } from '../../notify/approvals.js';
import { approverNames, buildEvent, parseDetails, statuses, statusWords, type Approval } from '../../notify/event.js';
import { sendNotifications } from '../../notify/notify.js';
import { defineAction, type Runtime } from '../common/action.js';
import { choice, custom, duration, integer, lines, secret, text } from '../common/inputs.js';

/**
 * Tells people about the rollback. Every failure to deliver is a warning, never a failed
 * step: the notification reports on the rollback and must not decide it. Only bad
 * configuration (an unknown status, half a status-page setup) fails, before anything is sent.
 */
export const action = defineAction({
  name: 'notify',
  inputs: {
    /** Which moment of the rollback this notification reports. */
    status: choice('status', statuses),
    /** Slack incoming-webhook URL (a secret). */
    slackWebhookUrl: custom('slack-webhook-url', url, { secret: true }),
    /** Generic JSON webhook URL (treated as a secret: such URLs usually embed a token). */
    webhookUrl: custom('webhook-url', url, { secret: true }),
    /** The raw `details` JSON from earlier jobs; parsed in run so a malformed one only warns. */
    details: text('details'),
    statuspageApiKey: secret('statuspage-api-key'),
    statuspagePageId: text('statuspage-page-id'),
    statuspageComponentIds: lines('statuspage-component-ids'),
    statuspageApiUrl: custom('statuspage-api-url', url, { default: 'https://api.statuspage.io/v1' }),
    /** The maintenance the `started` notification opened, to close now. */
    maintenanceId: text('maintenance-id'),
    /** Token that reads the run's approvals (`actions: read`). */
    githubToken: secret('github-token', { default: '${{ github.token }}' }),
    /** Only the reviews of this environment name the approvers (the gate). */
    gateEnvironment: text('gate-environment'),
    /** Attempts per channel, the first included. */
    attempts: integer('attempts', { min: 1, max: 10, default: 5 }),
    /** The most the whole notification may take, retries included. */
    timeoutMs: duration('timeout', '60s', { min: 1000 }),
  },
  outputs: {
    // A refused run passes the maintenance on, so the finishing notification can still close it.
    'maintenance-id': (input) => input('maintenance-id').trim(),
    delivered: '[]',
    failed: '[]',
    approvers: '[]',
  },
  async run(inputs, runtime) {
    const { logger } = runtime;
    const { statuspageApiKey: apiKey, statuspagePageId: pageId } = inputs;
    if (Boolean(apiKey) !== Boolean(pageId)) {
      throw new ConfigurationError(
        'Inputs "statuspage-api-key" and "statuspage-page-id" go together: give both to use the status page, or neither.',
      );
    }
    const componentIds = inputs.statuspageComponentIds
      .flatMap((line) => line.split(','))
      .map((id) => id.trim())
      .filter(Boolean);
    const statuspage =
      apiKey && pageId ? { apiKey, pageId, componentIds, apiUrl: inputs.statuspageApiUrl ?? '' } : undefined;

    let details: Record<string, unknown> = {};
    try {
      details = parseDetails(inputs.details);
    } catch (error) {
      logger.warning(`Input "details" was ignored: ${errorMessage(error)}. The notification is sent without it.`);
    }

    // Nobody has approved a run that is only requested; asking would only cost a call.
    let approvals: Approval[] = [];
    if (inputs.status !== 'requested') {
      const result = await readApprovals({
        token: inputs.githubToken ?? '',
        apiUrl: process.env.GITHUB_API_URL,
        repository: process.env.GITHUB_REPOSITORY ?? '',
        runId: process.env.GITHUB_RUN_ID ?? '',
        environments: inputs.gateEnvironment ? [inputs.gateEnvironment] : [],
      });
      if (result.problem) logger.warning(`Approvers unknown: ${result.problem}`);
      approvals = result.approvals;
    }

    const event = buildEvent(inputs.status, details, approvals, process.env);
    const configured = [inputs.slackWebhookUrl && 'Slack', inputs.webhookUrl && 'webhook', statuspage && 'status page'];
    if (!configured.some(Boolean))
      logger.info(
        'No notification channel is configured (slack-webhook-url, webhook-url, statuspage-*): nothing to send.',
      );

    const result = await logger.group(`Notify: ${statusWords[inputs.status].headline}`, () =>
      sendNotifications({
        event,
        slackWebhookUrl: inputs.slackWebhookUrl,
        webhookUrl: inputs.webhookUrl,
        statuspage,
        maintenanceId: inputs.maintenanceId,
        retry: { attempts: inputs.attempts, deadlineMs: inputs.timeoutMs, logger, clock: runtime.clock },
      }),
    );

    for (const delivery of result.deliveries) {
      const line = `${delivery.channel}: ${delivery.detail}`;
      if (delivery.ok) logger.info(`Delivered to ${line}`);
      else
        logger.warning(
          `Notification not delivered to ${line}. The rollback goes on; tell people by hand if this matters.`,
        );
    }
    for (const skip of result.skipped) logger.info(`${skip.channel}: ${skip.why}`);

    runtime.setOutput('maintenance-id', result.maintenanceId ?? '');
    runtime.setOutput('delivered', JSON.stringify(result.deliveries.filter((d) => d.ok).map((d) => d.channel)));
    runtime.setOutput('failed', JSON.stringify(result.deliveries.filter((d) => !d.ok).map((d) => d.channel)));
    runtime.setOutput('approvers', JSON.stringify(approverNames(approvals)));
    writeSummary(runtime, { inputs, event, approvals, result, anyChannel: configured.some(Boolean) });
  },
});

function url(value: string | undefined, name: string): string | undefined {
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

function writeSummary(
  { summary }: Pick<Runtime, 'summary'>,
  facts: {
    inputs: { status: (typeof statuses)[number] };
    event: ReturnType<typeof buildEvent>;
    approvals: Approval[];
    result: Awaited<ReturnType<typeof sendNotifications>>;
    anyChannel: boolean;
  },
): void {
  const { inputs, event, approvals, result } = facts;
  const rows = [
    ['Requested by', event.requestedBy ?? '(unknown)'],
    [
      'Approved by',
      inputs.status === 'requested' ? '(not yet)' : approverNames(approvals).join(', ') || '(none recorded)',
    ],
    ['Reason', event.reason ?? '(none given)'],
    ['Environment', event.environment ?? ''],
    ['Method', event.method ?? ''],
    ['Migrations', event.migrations.join(', ')],
    ['Snapshot', event.snapshotIdentifier ?? ''],
    ['Maintenance window', result.maintenanceId ?? '(none)'],
  ].filter(([, value]) => value !== '');
  summary
    .heading(`Notification: ${statusWords[inputs.status].headline}`, 3)
    .table([
      [
        { data: 'Field', header: true },
        { data: 'Value', header: true },
      ],
      ...rows,
    ])
    .table([
      [
        { data: 'Channel', header: true },
        { data: 'Result', header: true },
      ],
      ...result.deliveries.map((d) => [d.channel, `${d.ok ? 'delivered' : 'NOT delivered'}: ${d.detail}`]),
      ...result.skipped.map((s) => [s.channel, `skipped: ${s.why}`]),
      ...(facts.anyChannel ? [] : [['(none)', 'no channel configured']]),
    ]);
}
