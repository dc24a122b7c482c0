import { readApprovals } from '../../src/notify/approvals.js';
import { buildEvent, parseDetails, toNameList } from '../../src/notify/event.js';
import { sendNotifications } from '../../src/notify/notify.js';
import { escapeSlack, slackPayload } from '../../src/notify/slack.js';
import { startGenericWebhook, type GenericWebhookFake } from '../fakes/generic-webhook.js';
import { startGitHubApi, type GitHubApiFake } from '../fakes/github-api.js';
import { startSlackWebhook, type SlackWebhookFake } from '../fakes/slack-webhook.js';
import { startStatuspageApi, type StatuspageFake } from '../fakes/statuspage-api.js';

const env = {
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'example/ticket-service',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_ACTOR: 'alice',
};
const details = {
  environment: 'production',
  method: 'rollback',
  reason: '007 broke checkout <!channel> & more',
  ref: 'a'.repeat(40),
  migrations: JSON.stringify(['007_add_security_tables.ts', '006_add_ticket_state_machine.ts']),
  'snapshot-identifier': 'pre-rollback-20261129-031500',
  'plan-fingerprint': 'f'.repeat(64),
};

describe('notifications against local Slack, webhook and Statuspage servers', () => {
  let slack: SlackWebhookFake;
  let hook: GenericWebhookFake;
  let statuspage: StatuspageFake;
  beforeAll(async () => {
    [slack, hook, statuspage] = await Promise.all([startSlackWebhook(), startGenericWebhook(), startStatuspageApi()]);
  });
  afterAll(async () => {
    await Promise.all([slack.close(), hook.close(), statuspage.close()]);
  });
  const config = () => ({
    apiKey: statuspage.apiKey,
    pageId: statuspage.pageId,
    componentIds: ['cmp-api', 'cmp-db'],
    apiUrl: statuspage.apiUrl,
  });
  const approvals = [{ user: 'bob', state: 'approved', environments: ['production-rollback'] }];

  it('opens the maintenance window when the approved rollback starts and closes it with the outcome', async () => {
    const started = await sendNotifications({
      event: buildEvent('started', details, approvals, env),
      slackWebhookUrl: slack.webhookUrl,
      webhookUrl: hook.webhookUrl,
      statuspage: config(),
      retry: { baseDelayMs: 5 },
    });
    expect(started.deliveries.every((d) => d.ok)).toBe(true);
    expect(started.maintenanceId).toMatch(/^inc/);
    const incident = statuspage.incidents.get(started.maintenanceId!)!;
    expect(incident).toMatchObject({ status: 'in_progress', impact_override: 'maintenance' });
    expect(statuspage.components.get('cmp-api')).toBe('under_maintenance');
    // The public page never shows the internal reason.
    expect(JSON.stringify(incident)).not.toContain('checkout');

    const finished = await sendNotifications({
      event: buildEvent('succeeded', details, approvals, env),
      slackWebhookUrl: slack.webhookUrl,
      statuspage: config(),
      maintenanceId: started.maintenanceId,
      retry: { baseDelayMs: 5 },
    });
    expect(finished.deliveries.map((d) => [d.channel, d.ok])).toEqual([
      ['slack', true],
      ['statuspage', true],
    ]);
    expect(incident.status).toBe('completed');
    expect(statuspage.components.get('cmp-db')).toBe('operational');
  });

  it('sends who asked, who approved, the reason, migrations, snapshot and run URL to Slack and the webhook', async () => {
    slack.messages.length = 0;
    hook.received.length = 0;
    await sendNotifications({
      event: buildEvent('succeeded', details, approvals, env),
      slackWebhookUrl: slack.webhookUrl,
      webhookUrl: hook.webhookUrl,
    });
    const message = JSON.stringify(slack.messages[0]);
    for (const expected of [
      'alice',
      'bob',
      '007 broke checkout &lt;!channel&gt; &amp; more',
      '007_add_security_tables.ts',
      'pre-rollback-20261129-031500',
      'https://github.com/example/ticket-service/actions/runs/4242',
    ]) {
      expect(message).toContain(expected);
    }
    expect(message).not.toContain('<!channel>');
    expect(hook.received[0]).toMatchObject({
      schema: 'db-rollback-actions/notification@1',
      status: 'succeeded',
      requestedBy: 'alice',
      approvedBy: ['bob'],
      reason: details.reason,
      migrations: ['007_add_security_tables.ts', '006_add_ticket_state_machine.ts'],
      snapshotIdentifier: 'pre-rollback-20261129-031500',
      runUrl: 'https://github.com/example/ticket-service/actions/runs/4242',
    });
  });

  it('touches no status page for a requested run, and says why', async () => {
    const before = statuspage.requests.length;
    const result = await sendNotifications({
      event: buildEvent('requested', details, [], env),
      slackWebhookUrl: slack.webhookUrl,
      statuspage: config(),
    });
    expect(statuspage.requests.length).toBe(before);
    expect(result.skipped[0]).toMatchObject({ channel: 'statuspage' });
    expect(result.deliveries).toEqual([expect.objectContaining({ channel: 'slack', ok: true })]);
  });

  it('retries a throttled status page and a failing Slack, and reports a channel that stays down without throwing', async () => {
    statuspage.fail({ status: 429, retryAfter: '1' });
    slack.fail({ status: 500 }, { status: 500 }, { status: 500 });
    hook.fail({ status: 410, body: 'gone' });
    const result = await sendNotifications({
      event: buildEvent('started', details, approvals, env),
      slackWebhookUrl: slack.webhookUrl,
      webhookUrl: hook.webhookUrl,
      statuspage: config(),
      retry: { attempts: 3, baseDelayMs: 5 },
    });
    const by = Object.fromEntries(result.deliveries.map((d) => [d.channel, d]));
    expect(by.statuspage).toMatchObject({ ok: true, attempts: 2 });
    expect(by.slack).toMatchObject({ ok: false, attempts: 3 });
    expect(by.slack.detail).toMatch(/HTTP 500 after 3 attempts/);
    expect(by.webhook).toMatchObject({ ok: false, attempts: 1 });
    expect(result.maintenanceId).toMatch(/^inc/);
  });

  it('does not open a second window on a re-run that already has one', async () => {
    const before = statuspage.incidents.size;
    const result = await sendNotifications({
      event: buildEvent('started', details, approvals, env),
      statuspage: config(),
      maintenanceId: 'inc0001',
    });
    expect(statuspage.incidents.size).toBe(before);
    expect(result.maintenanceId).toBe('inc0001');
  });
});

describe('approvals from the GitHub API', () => {
  let github: GitHubApiFake;
  beforeAll(async () => {
    github = await startGitHubApi();
    github.approvals.set('4242', [
      { user: 'bob', state: 'approved', environments: ['production-rollback'], comment: 'go' },
      { user: 'carol', state: 'approved', environments: ['staging-rollback'] },
    ]);
  });
  afterAll(async () => {
    await github.close();
  });

  it('names the reviewers of the gate environment', async () => {
    const result = await readApprovals({
      token: github.token,
      apiUrl: github.url,
      repository: github.repository,
      runId: '4242',
      environments: ['production-rollback'],
    });
    expect(result).toEqual({
      approvals: [{ user: 'bob', state: 'approved', environments: ['production-rollback'], comment: 'go' }],
    });
    expect(github.requests.at(-1)?.path).toBe('/repos/example/ticket-service/actions/runs/4242/approvals');
  });

  it('explains a missing actions: read permission instead of throwing', async () => {
    github.forbidden.add('/repos/example/ticket-service/actions/runs/');
    const result = await readApprovals({
      token: github.token,
      apiUrl: github.url,
      repository: github.repository,
      runId: '4242',
    });
    github.forbidden.clear();
    expect(result.approvals).toEqual([]);
    expect(result.problem).toMatch(/HTTP 403.*actions: read/);
  });

  it('explains a bad token and a missing token', async () => {
    expect(
      (await readApprovals({ token: 'wrong', apiUrl: github.url, repository: github.repository, runId: '4242' }))
        .problem,
    ).toMatch(/HTTP 401/);
    expect(
      (await readApprovals({ token: '', apiUrl: github.url, repository: github.repository, runId: '4242' })).problem,
    ).toMatch(/no github-token/);
  });
});

describe('details', () => {
  it('accepts migrations as an array, a JSON string or lines', () => {
    expect(toNameList(['a', 'b'])).toEqual(['a', 'b']);
    expect(toNameList('["a","b"]')).toEqual(['a', 'b']);
    expect(toNameList('a\nb')).toEqual(['a', 'b']);
    expect(toNameList([{ name: 'a', batch: 2 }])).toEqual(['a']);
    expect(toNameList('')).toEqual([]);
  });

  it('refuses details that are not a JSON object, with the reason', () => {
    expect(() => parseDetails('[1]')).toThrow(/JSON object/);
    expect(() => parseDetails('{oops')).toThrow(/not JSON/);
    expect(parseDetails('')).toEqual({});
  });

  it('falls back to the triggering actor for who asked', () => {
    expect(buildEvent('requested', {}, [], { ...env, GITHUB_TRIGGERING_ACTOR: 'dave' }).requestedBy).toBe('dave');
    expect(buildEvent('requested', { 'requested-by': 'erin' }, [], env).requestedBy).toBe('erin');
  });

  it('keeps Slack blocks within Slack limits for a very long reason', () => {
    const payload = slackPayload(buildEvent('failed', { reason: 'x'.repeat(10_000) }, [], env));
    for (const block of payload.blocks) expect(JSON.stringify(block).length).toBeLessThan(3100);
    expect(escapeSlack('<a & b>')).toBe('&lt;a &amp; b&gt;');
  });
});
