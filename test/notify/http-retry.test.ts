import { parseRetryAfter, requestWithRetry } from '../../src/notify/http-retry.js';
import { startSlackWebhook, type SlackWebhookFake } from '../fakes/slack-webhook.js';
import { silentLogger } from '../../src/common/logger.js';
import { manualClock } from '../helpers/manual-clock.js';

const post = {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ text: 'hello' }),
};

describe('requestWithRetry against a local Slack webhook', () => {
  let slack: SlackWebhookFake;
  beforeEach(async () => {
    slack = await startSlackWebhook();
  });
  afterEach(async () => {
    await slack.close();
  });

  it('waits as long as Retry-After says after a 429, then delivers', async () => {
    slack.fail({ status: 429, retryAfter: '1', body: 'rate_limited' });
    const clock = manualClock();
    const result = await requestWithRetry(slack.webhookUrl, post, { baseDelayMs: 10, clock });
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 2, waits: [1000] });
    expect(clock.sleeps).toEqual([1000]);
    expect(slack.requests).toHaveLength(2);
    expect(slack.messages).toEqual([{ text: 'hello' }]);
  });

  it('honours a Retry-After given as an HTTP date', async () => {
    slack.fail({ status: 429, retryAfter: new Date(Date.now() + 2000).toUTCString() });
    const result = await requestWithRetry(slack.webhookUrl, post, { baseDelayMs: 10, clock: manualClock() });
    expect(result.ok).toBe(true);
    // HTTP dates have whole seconds: the wait is between 1 and 2 s.
    expect(result.waits[0]).toBeGreaterThan(900);
    expect(result.waits[0]).toBeLessThanOrEqual(2000);
  });

  it('retries 5xx with growing backoff and succeeds', async () => {
    slack.fail({ status: 500 }, { status: 502 }, { status: 503 });
    const clock = manualClock();
    const result = await requestWithRetry(slack.webhookUrl, post, { baseDelayMs: 20, clock });
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 4, waits: [20, 40, 80] });
    expect(clock.sleeps).toEqual([20, 40, 80]);
    expect(slack.messages).toHaveLength(1);
  });

  it('retries a dropped connection', async () => {
    slack.fail({ drop: true });
    const result = await requestWithRetry(slack.webhookUrl, post, { baseDelayMs: 10 });
    expect(result).toMatchObject({ ok: true, attempts: 2 });
  });

  it('is bounded: gives up after the attempts allowed and returns the last answer', async () => {
    slack.fail(...Array.from({ length: 10 }, () => ({ status: 503, body: 'down' })));
    const result = await requestWithRetry(slack.webhookUrl, post, { attempts: 3, baseDelayMs: 5 });
    expect(result).toMatchObject({ ok: false, status: 503, attempts: 3, body: 'down' });
    expect(slack.requests).toHaveLength(3);
  });

  it('gives up at once when Retry-After is longer than the longest wait allowed', async () => {
    slack.fail({ status: 429, retryAfter: '120' });
    const lines: string[] = [];
    const clock = manualClock();
    const result = await requestWithRetry(slack.webhookUrl, post, {
      maxDelayMs: 5000,
      clock,
      logger: { ...silentLogger, info: (line) => lines.push(line) },
    });
    expect(clock.sleeps).toEqual([]);
    expect(result).toMatchObject({ ok: false, status: 429, attempts: 1 });
    expect(lines.join('\n')).toMatch(/asks to wait 120s, longer than the 5s allowed/);
  });

  it('stops at the deadline rather than sleeping past it', async () => {
    slack.fail({ status: 503 }, { status: 503 }, { status: 503 });
    const clock = manualClock();
    const result = await requestWithRetry(slack.webhookUrl, post, { baseDelayMs: 400, deadlineMs: 700, clock });
    // 400 ms, then 800 ms would pass the deadline: no second wait.
    expect(clock.sleeps).toEqual([400]);
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(2);
  });

  it('does not retry a 4xx that will not get better', async () => {
    const result = await requestWithRetry(`${slack.url}/services/wrong/hook/path`, post, { baseDelayMs: 5 });
    expect(result).toMatchObject({ ok: false, status: 404, attempts: 1, body: 'no_service' });
  });

  it('reports a refused connection after its retries without throwing', async () => {
    const url = slack.webhookUrl;
    await slack.close();
    const result = await requestWithRetry(url, post, { attempts: 2, baseDelayMs: 5 });
    expect(result.ok).toBe(false);
    expect(result.status).toBe(0);
    expect(result.error).toMatch(/ECONNREFUSED/);
    slack = await startSlackWebhook();
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates and ignores nonsense', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:50 GMT'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
