import { approverNames, restoreHint, statusWords, type RollbackEvent } from './event.js';
import { requestWithRetry, type HttpResult, type RetryOptions } from './http-retry.js';
import { escapeHtml } from '../common/html.js';

/**
 * Slack incoming-webhook message (https://api.slack.com/messaging/webhooks): `text` is the
 * fallback shown in notifications, `blocks` the message itself. Free text typed by people
 * (the reason) is escaped, so `<!channel>` in a reason pings nobody.
 */

export interface SlackPayload {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

/** Slack's mrkdwn control characters (&, <, >) escaped as Slack documents: the same three as HTML. */
export const escapeSlack = escapeHtml;

/** Slack rejects a section text over 3000 characters; a long reason must not lose the message. */
function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

export function slackPayload(event: RollbackEvent): SlackPayload {
  const words = statusWords[event.status];
  const where = [event.repository, event.environment].filter(Boolean).join(' · ');
  const headline = `${words.headline}${where ? ` (${where})` : ''}`;
  const approved = approverNames(event.approvals);
  const rejected = approverNames(event.approvals, 'rejected');

  const fields: string[] = [];
  const add = (label: string, value: string | undefined) => {
    if (value) fields.push(`*${label}:*\n${clip(escapeSlack(value), 1900)}`);
  };
  add('Environment', event.environment);
  add('Method', event.method);
  add('Database', event.database);
  add('Requested by', event.requestedBy);
  add(
    'Approved by',
    approved.length ? approved.join(', ') : event.status === 'requested' ? undefined : 'nobody recorded',
  );
  if (rejected.length) add('Rejected by', rejected.join(', '));
  add('Ref', event.ref);
  add('Snapshot', event.snapshotIdentifier);

  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: clip(headline, 150), emoji: true } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `${words.emoji} *Reason:* ${clip(escapeSlack(event.reason ?? '(none given)'), 2800)}`,
      },
    },
  ];
  // A section holds at most 10 fields.
  if (fields.length)
    blocks.push({ type: 'section', fields: fields.slice(0, 10).map((field) => ({ type: 'mrkdwn', text: field })) });
  if (event.migrations.length) {
    const label =
      event.status === 'succeeded'
        ? 'Migrations undone'
        : event.status === 'requested' || event.status === 'started'
          ? 'Migrations to undo'
          : 'Migrations';
    const list = event.migrations.map((name) => `• \`${escapeSlack(name)}\``).join('\n');
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*${label}:*\n${list}`, 2900) } });
  }
  const hint = restoreHint(event);
  if (hint) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `:floppy_disk: ${escapeSlack(hint)}` } });
  if (event.message)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(escapeSlack(event.message), 2900) } });
  const context: string[] = [];
  if (event.runUrl) context.push(`<${event.runUrl}|Workflow run>`);
  if (event.planFingerprint) context.push(`plan \`${escapeSlack(event.planFingerprint.slice(0, 16))}\``);
  if (context.length) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] });

  // The fallback text is parsed as mrkdwn too (it is what notifications show): escaped as well.
  const fallback = [
    escapeSlack(headline),
    event.reason ? `Reason: ${escapeSlack(event.reason)}` : '',
    event.runUrl ?? '',
  ]
    .filter(Boolean)
    .join(' — ');
  return { text: clip(fallback, 3000), blocks };
}

export async function postToSlack(
  webhookUrl: string,
  event: RollbackEvent,
  retry: RetryOptions = {},
): Promise<HttpResult> {
  return requestWithRetry(
    webhookUrl,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(slackPayload(event)) },
    { label: 'Slack', ...retry },
  );
}
