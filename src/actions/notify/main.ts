import * as core from '@actions/core';
import { runAction } from '../common/run.js';
import { readApprovals } from '../../notify/approvals.js';
import { approverNames, buildEvent, parseDetails, statusWords, type Approval } from '../../notify/event.js';
import { sendNotifications } from '../../notify/notify.js';
import { Outputs } from './constants.js';
import { getInputs } from './inputs.js';

/**
 * Tells people about the rollback. Every failure to deliver is a warning, never a failed
 * step: the notification reports on the rollback and must not decide it. Only bad
 * configuration (an unknown status, half a status-page setup) fails, before anything is sent.
 */
export async function run(): Promise<void> {
  await runAction(async (secrets) => {
    // Defaults first, so every output is set even when the inputs are refused.
    core.setOutput(Outputs.MaintenanceId, core.getInput('maintenance-id').trim());
    core.setOutput(Outputs.Delivered, '[]');
    core.setOutput(Outputs.Failed, '[]');
    core.setOutput(Outputs.Approvers, '[]');

    const inputs = getInputs();
    secrets.add(
      ...[inputs.slackWebhookUrl, inputs.webhookUrl, inputs.statuspage?.apiKey, inputs.githubToken].filter(
        (value): value is string => Boolean(value),
      ),
    );

    let details: Record<string, unknown> = {};
    try {
      details = parseDetails(inputs.details);
    } catch (error) {
      core.warning(
        `Input "details" was ignored: ${error instanceof Error ? error.message : String(error)}. The notification is sent without it.`,
      );
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
      if (result.problem) core.warning(`Approvers unknown: ${result.problem}`);
      approvals = result.approvals;
    }

    const event = buildEvent(inputs.status, details, approvals, process.env);
    const configured = [
      inputs.slackWebhookUrl && 'Slack',
      inputs.webhookUrl && 'webhook',
      inputs.statuspage && 'status page',
    ].filter(Boolean);
    if (!configured.length)
      core.info(
        'No notification channel is configured (slack-webhook-url, webhook-url, statuspage-*): nothing to send.',
      );

    const result = await core.group(`Notify: ${statusWords[inputs.status].headline}`, () =>
      sendNotifications({
        event,
        slackWebhookUrl: inputs.slackWebhookUrl,
        webhookUrl: inputs.webhookUrl,
        statuspage: inputs.statuspage,
        maintenanceId: inputs.maintenanceId,
        retry: {
          attempts: inputs.attempts,
          deadlineMs: inputs.timeoutMs,
          logger: { info: (message) => core.info(secrets.scrub(message)) },
        },
      }),
    );

    for (const delivery of result.deliveries) {
      const line = secrets.scrub(`${delivery.channel}: ${delivery.detail}`);
      if (delivery.ok) core.info(`Delivered to ${line}`);
      else
        core.warning(
          `Notification not delivered to ${line}. The rollback goes on; tell people by hand if this matters.`,
        );
    }
    for (const skip of result.skipped) core.info(`${skip.channel}: ${skip.why}`);

    const delivered = result.deliveries.filter((d) => d.ok).map((d) => d.channel);
    const failed = result.deliveries.filter((d) => !d.ok).map((d) => d.channel);
    core.setOutput(Outputs.MaintenanceId, result.maintenanceId ?? '');
    core.setOutput(Outputs.Delivered, JSON.stringify(delivered));
    core.setOutput(Outputs.Failed, JSON.stringify(failed));
    core.setOutput(Outputs.Approvers, JSON.stringify(approverNames(approvals)));

    const summary = core.summary.addHeading(`Notification: ${statusWords[inputs.status].headline}`, 3);
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
    summary.addTable([
      [
        { data: 'Field', header: true },
        { data: 'Value', header: true },
      ],
      ...rows.map(([field, value]) => [field, secrets.scrub(value)]),
    ]);
    summary.addTable([
      [
        { data: 'Channel', header: true },
        { data: 'Result', header: true },
      ],
      ...result.deliveries.map((d) => [
        d.channel,
        secrets.scrub(`${d.ok ? 'delivered' : 'NOT delivered'}: ${d.detail}`),
      ]),
      ...result.skipped.map((s) => [s.channel, `skipped: ${s.why}`]),
      ...(configured.length ? [] : [['(none)', 'no channel configured']]),
    ]);
    await summary.write();
  });
}
