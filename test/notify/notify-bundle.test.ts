import { runBundle } from '../helpers/run-bundle.js';
import { startGitHubApi, type GitHubApiFake } from '../fakes/github-api.js';
import { startSlackWebhook, type SlackWebhookFake } from '../fakes/slack-webhook.js';
import { startStatuspageApi, type StatuspageFake } from '../fakes/statuspage-api.js';

/** What a reader could see: the ::add-mask:: commands themselves are consumed by the runner. */
const visible = (text: string) =>
  text
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');

// The bundle as the runner runs it: Node 24, INPUT_* variables, GITHUB_API_URL at the fake.
describe('dist/notify', () => {
  let slack: SlackWebhookFake;
  let statuspage: StatuspageFake;
  let github: GitHubApiFake;
  beforeAll(async () => {
    [slack, statuspage, github] = await Promise.all([startSlackWebhook(), startStatuspageApi(), startGitHubApi()]);
    github.approvals.set('4242', [{ user: 'bob', state: 'approved', environments: ['production-rollback'] }]);
  });
  afterAll(async () => {
    await Promise.all([slack.close(), statuspage.close(), github.close()]);
  });
  const env = () => ({ GITHUB_API_URL: github.url });
  const details = JSON.stringify({
    environment: 'production',
    method: 'rollback',
    reason: 'checkout is down',
    migrations: ['007_add_security_tables.ts'],
  });

  it('opens the maintenance window, names the approver from the API and sets every output', async () => {
    const run = await runBundle('notify', {
      env: env(),
      inputs: {
        status: 'started',
        'slack-webhook-url': slack.webhookUrl,
        details,
        'statuspage-api-key': statuspage.apiKey,
        'statuspage-page-id': statuspage.pageId,
        'statuspage-component-ids': 'cmp-api, cmp-db',
        'statuspage-api-url': statuspage.apiUrl,
        'github-token': github.token,
        'gate-environment': 'production-rollback',
      },
    });
    expect(run.code).toBe(0);
    expect(run.outputs['maintenance-id']).toMatch(/^inc/);
    expect(JSON.parse(run.outputs.delivered)).toEqual(expect.arrayContaining(['slack', 'statuspage']));
    expect(run.outputs.failed).toBe('[]');
    expect(run.outputs.approvers).toBe('["bob"]');
    expect(run.summary).toContain('checkout is down');
    expect(run.summary).toContain('bob');
    expect(JSON.stringify(slack.messages.at(-1))).toContain('bob');
    // Secrets: the hook path, the API key and the token never reach the log or the summary.
    for (const secret of ['s3cr3tSlackHookToken', statuspage.apiKey, github.token])
      expect(visible(run.everything)).not.toContain(secret);
  });

  it('shows a requested-by and a reason someone typed as text in the summary, never as markup', async () => {
    const forged = JSON.stringify({
      environment: 'production',
      'requested-by': '<h1>FAKE: rollback approved</h1>',
      reason: 'see <a href="https://evil.example/approve">approve</a>',
    });
    const run = await runBundle('notify', { env: env(), inputs: { status: 'requested', details: forged } });
    expect(run.code).toBe(0);
    expect(run.summary).not.toMatch(/<h1>FAKE|<a href/);
    expect(run.summary).toContain('&lt;h1&gt;FAKE: rollback approved&lt;/h1&gt;');
    expect(run.summary).toContain('see &lt;a href="https://evil.example/approve"&gt;approve&lt;/a&gt;');
  });

  it('never fails for a summary it cannot write: the notification still goes out', async () => {
    const run = await runBundle('notify', {
      env: { ...env(), GITHUB_STEP_SUMMARY: '' },
      inputs: { status: 'requested', 'slack-webhook-url': slack.webhookUrl, details },
    });
    expect(run.code).toBe(0);
    expect(run.outputs.delivered).toBe('["slack"]');
    expect(run.stdout).toMatch(/::warning::The job summary was not written: GITHUB_STEP_SUMMARY is not set/);
  });

  it('warns and succeeds when Slack stays down, so the rollback is never failed by a notification', async () => {
    slack.fail(...Array.from({ length: 5 }, () => ({ status: 503 })));
    const run = await runBundle('notify', {
      env: env(),
      inputs: {
        status: 'failed',
        'slack-webhook-url': slack.webhookUrl,
        details,
        attempts: '2',
        'github-token': github.token,
      },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/::warning::Notification not delivered to slack: HTTP 503 after 2 attempts/);
    expect(run.outputs.failed).toBe('["slack"]');
    expect(run.outputs.delivered).toBe('[]');
    expect(run.outputs['maintenance-id']).toBe('');
    expect(visible(run.everything)).not.toContain('s3cr3tSlackHookToken');
  });

  it('warns about details that are not JSON and still notifies', async () => {
    const before = slack.messages.length;
    const run = await runBundle('notify', {
      env: env(),
      inputs: { status: 'requested', 'slack-webhook-url': slack.webhookUrl, details: '{not json' },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/::warning::Input "details" was ignored/);
    expect(slack.messages.length).toBe(before + 1);
  });

  it('warns when the approvals cannot be read and still notifies', async () => {
    github.forbidden.add('/repos/');
    const run = await runBundle('notify', {
      env: env(),
      inputs: { status: 'succeeded', 'slack-webhook-url': slack.webhookUrl, 'github-token': github.token },
    });
    github.forbidden.clear();
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/::warning::Approvers unknown: .*HTTP 403/);
    expect(run.outputs.delivered).toBe('["slack"]');
  });

  it('refuses an unknown status before sending anything, and still sets every output', async () => {
    const before = slack.requests.length;
    const run = await runBundle('notify', {
      env: env(),
      inputs: { status: 'done', 'slack-webhook-url': slack.webhookUrl },
    });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(
      /Input "status" is "done". Valid values are: \[requested, started, succeeded, failed, cancelled\]/,
    );
    expect(slack.requests.length).toBe(before);
    expect(Object.keys(run.outputs).sort()).toEqual(['approvers', 'delivered', 'failed', 'maintenance-id']);
  });

  it('refuses half a status-page configuration', async () => {
    const run = await runBundle('notify', {
      env: env(),
      inputs: { status: 'started', 'statuspage-api-key': 'key-123' },
    });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/"statuspage-api-key" and "statuspage-page-id" go together/);
  });
});
