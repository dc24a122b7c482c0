import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCommand } from '../../src/smoke/command.js';
import { checkTables, parseExpectedTables } from '../../src/smoke/database-tables.js';
import { parseExpectBody } from '../../src/smoke/expect-body.js';
import { parseExpectedStatus } from '../../src/smoke/expected-status.js';
import { checkUrl, type UrlCheckOptions } from '../../src/smoke/http-check.js';
import { runSmoke } from '../../src/smoke/run.js';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { migrateTicketService } from '../helpers/ticket-service.js';
import { startHealthServer, type HealthServer } from '../fakes/health-server.js';
import { manualClock } from '../helpers/manual-clock.js';

let server: HealthServer;

beforeAll(async () => {
  server = await startHealthServer({ flappingFailures: 3, slowMs: 3000, token: 'smoke-token-123' });
});

afterAll(async () => {
  await server.close();
});

// Short intervals through the same options the inputs set; nothing here asserts on time.
function check(path: string, overrides: Partial<UrlCheckOptions> = {}) {
  return checkUrl({
    url: `${server.url}${path}`,
    expectedStatus: parseExpectedStatus('200'),
    attempts: 10,
    intervalMs: 5,
    maxIntervalMs: 20,
    requestTimeoutMs: 2000,
    deadline: Date.now() + 60_000,
    ...overrides,
  });
}

describe('checkUrl', () => {
  it('passes a healthy endpoint on the first attempt', async () => {
    expect(await check('/health/ready', { expectBody: parseExpectBody('$.checks[0].healthy == true') })).toMatchObject({
      passed: true,
      attempts: 1,
      lastStatus: 200,
    });
  });

  it('retries a flapping endpoint (503 three times) until it passes', async () => {
    const result = await check('/flapping', { expectBody: parseExpectBody('$.status == "ok"') });
    expect(result).toMatchObject({ passed: true, attempts: 4, lastStatus: 200 });
  });

  it('retries a 429', async () => {
    expect(await check('/rate-limited')).toMatchObject({ passed: true, attempts: 4 });
  });

  it('gives up on an endpoint slower than the request timeout after its attempts', async () => {
    const result = await check('/slow', { requestTimeoutMs: 50, attempts: 2 });
    expect(result).toMatchObject({
      passed: false,
      attempts: 2,
      error: 'no answer within 50ms (request timeout) (gave up after 2 attempts)',
    });
  });

  it('retries a wrong body and reports it with a snippet', async () => {
    const result = await check('/wrong-body', { expectBody: parseExpectBody('$.status == "ok"'), attempts: 3 });
    expect(result).toMatchObject({
      passed: false,
      attempts: 3,
      lastStatus: 200,
      error: '200, but $.status is "degraded", expected "ok" (gave up after 3 attempts)',
    });
    expect(result.snippet).toBe('{"status":"degraded","missing":["idempotency_keys"]}');
  });

  it('fails a 404 at once', async () => {
    const result = await check('/missing');
    expect(result).toMatchObject({
      passed: false,
      attempts: 1,
      lastStatus: 404,
      error: 'status 404, expected 200 (a 4xx is not retried unless retry-on-4xx is set)',
    });
    expect(result.snippet).toContain('not found');
  });

  it('retries a 404 when told to', async () => {
    expect(await check('/missing', { retryOn4xx: true, attempts: 3 })).toMatchObject({ passed: false, attempts: 3 });
  });

  it('accepts a 404 the user expects', async () => {
    expect(await check('/missing', { expectedStatus: parseExpectedStatus('404') })).toMatchObject({
      passed: true,
      attempts: 1,
    });
  });

  it('sends the headers', async () => {
    expect(await check('/auth', { headers: { Authorization: 'Bearer smoke-token-123' } })).toMatchObject({
      passed: true,
    });
  });

  it('retries a refused connection', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await checkUrl({
      url: `http://127.0.0.1:${port}/health/ready`,
      expectedStatus: parseExpectedStatus('200'),
      attempts: 3,
      intervalMs: 5,
      maxIntervalMs: 5,
      requestTimeoutMs: 1000,
      deadline: Date.now() + 60_000,
    });
    expect(result).toMatchObject({
      passed: false,
      attempts: 3,
      error: 'connection refused (ECONNREFUSED) (gave up after 3 attempts)',
    });
  });

  it('stops at the overall deadline even with attempts left', async () => {
    const result = await check('/slow', {
      requestTimeoutMs: 50,
      attempts: 1000,
      intervalMs: 1,
      maxIntervalMs: 1,
      deadline: Date.now() + 200,
    });
    expect(result.passed).toBe(false);
    expect(result.attempts).toBeLessThan(1000);
    expect(result.error).toMatch(/overall deadline reached after \d+ attempts/);
  });
});

describe('the smoke deadline on the manual clock', () => {
  // The backoff's waits and the overall deadline are taken on the injected clock: a five-minute
  // budget is spent in no real time, and the number of attempts it allows is exact.
  const retrying = {
    expectedStatus: parseExpectedStatus('200'),
    expectBody: parseExpectBody('$.status == "ok"'),
    attempts: 1000,
    intervalMs: 10_000,
    maxIntervalMs: 60_000,
    requestTimeoutMs: 2000,
  };

  it('checkUrl stops when the next wait would reach the deadline, every wait on the clock', async () => {
    const clock = manualClock();
    const result = await checkUrl({ ...retrying, url: `${server.url}/wrong-body`, deadline: 5 * 60_000, clock });
    // 10 + 20 + 40 + 60 + 60 + 60 = 250s; the next 60s wait would pass the 300s deadline.
    expect(clock.sleeps).toEqual([10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
    expect(clock.elapsed()).toBe(250_000);
    expect(result).toMatchObject({ passed: false, attempts: 7 });
    expect(result.error).toMatch(/\(overall deadline reached after 7 attempts\)$/);
  });

  it('runSmoke counts its deadline from the clock and skips the command when it passes', async () => {
    const clock = manualClock(Date.parse('2026-11-29T03:10:00Z'));
    const report = await runSmoke({
      ...retrying,
      urls: [`${server.url}/wrong-body`],
      deadlineMs: 2 * 60_000,
      command: 'echo should-not-run',
      clock,
    });
    // 10 + 20 + 40 = 70s; the next 60s wait would pass the 120s deadline.
    expect(clock.elapsed()).toBe(70_000);
    expect(report.results.map((result) => [result.kind, result.passed, result.attempts])).toEqual([
      ['url', false, 4],
      ['command', false, 0],
    ]);
  });
});

describe('checkTables on the ticket-service database', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createDatabase('smoke_tables');
    await migrateTicketService(database.knex());
  });

  afterAll(async () => {
    await database.drop();
  });

  it('passes when the tables match what the migrations expect', async () => {
    const result = await checkTables(
      database.url,
      parseExpectedTables(['tickets', 'ticket_scans', 'idempotency_keys', 'failed_login_attempts']),
    );
    expect(result).toMatchObject({ passed: true, missingTables: [], unexpectedTables: [] });
  });

  it("lists every difference: the runbook's inconsistent state", async () => {
    // As if 007 were rolled back on paper while its tables stayed, and 005's table was lost.
    const result = await checkTables(
      database.url,
      parseExpectedTables([
        'tickets',
        'idempotency_keys',
        'ghost_table',
        '!failed_login_attempts',
        '!user_spending_limits',
        '!blockchain_archive',
      ]),
    );
    expect(result).toMatchObject({
      passed: false,
      missingTables: ['ghost_table'],
      unexpectedTables: ['failed_login_attempts', 'user_spending_limits'],
      error:
        'schema differs from what the migrations expect: missing: ghost_table; still present: failed_login_attempts, user_spending_limits',
    });
  });

  it('fails with the reason when it cannot connect', async () => {
    const wrong = new URL(database.url);
    wrong.pathname = '/no_such_database_here';
    const result = await checkTables(wrong.toString(), parseExpectedTables(['tickets']));
    expect(result.passed).toBe(false);
    expect(result.error).toMatch(
      /^could not read the schema: Input "database-url": could not connect to 127\.0\.0\.1:\d+\/no_such_database_here: database "no_such_database_here" does not exist\. The database does not exist/,
    );
  });
});

describe('runCommand', () => {
  it('passes a command that exits 0', async () => {
    expect(await runCommand({ command: 'echo smoke ok', timeoutMs: 30_000 })).toMatchObject({
      passed: true,
      lastStatus: 0,
    });
  });

  it('fails a command that exits non-zero, keeping the tail of its output', async () => {
    const result = await runCommand({
      command: 'echo "1 passing"; echo "1 failing: GET /tickets 500" >&2; exit 3',
      timeoutMs: 30_000,
    });
    expect(result).toMatchObject({ passed: false, lastStatus: 3, error: 'exited with code 3' });
    expect(result.snippet).toContain('1 failing: GET /tickets 500');
  });

  it('kills a command that outlives the deadline', async () => {
    const result = await runCommand({ command: 'sleep 30', timeoutMs: 100 });
    expect(result).toMatchObject({ passed: false, error: 'killed after 0s (the overall deadline)' });
  });
});

describe('runSmoke', () => {
  const base = {
    expectedStatus: parseExpectedStatus('200'),
    attempts: 3,
    intervalMs: 5,
    maxIntervalMs: 10,
    requestTimeoutMs: 2000,
    deadlineMs: 60_000,
  };

  it('checks every URL in parallel and runs the command only after they pass', async () => {
    const report = await runSmoke({
      ...base,
      urls: [`${server.url}/health/ready`, `${server.url}/auth`],
      headers: { Authorization: 'Bearer smoke-token-123' },
      command: 'echo smoke',
    });
    expect(report.passed).toBe(true);
    expect(report.results.map((result) => [result.kind, result.passed])).toEqual([
      ['url', true],
      ['url', true],
      ['command', true],
    ]);
  });

  it('skips the command when a URL fails', async () => {
    const report = await runSmoke({
      ...base,
      urls: [`${server.url}/health/ready`, `${server.url}/missing`],
      command: 'echo should-not-run',
    });
    expect(report.passed).toBe(false);
    expect(report.results[2]).toMatchObject({ kind: 'command', passed: false, skipped: true, attempts: 0 });
  });
});
