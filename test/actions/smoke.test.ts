import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CheckResult } from '../../src/smoke/types.js';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { runBundle } from '../helpers/run-bundle.js';
import { migrateTicketService } from '../helpers/ticket-service.js';
import { startHealthServer, type HealthServer } from '../fakes/health-server.js';

// dist/smoke/index.js run as the runner runs it, against local HTTP servers and a real PostgreSQL.
let server: HealthServer;
let database: TestDatabase;

beforeAll(async () => {
  server = await startHealthServer({ flappingFailures: 2, slowMs: 5000, token: 'smoke-bearer-5e1d0b' });
  database = await createDatabase('smoke_bundle');
  await migrateTicketService(database.knex());
});

afterAll(async () => {
  await server.close();
  await database.drop();
});

const fast = { interval: '10ms', 'max-interval': '20ms' };
const visible = (text: string) =>
  text
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');

describe('smoke bundle', () => {
  it('passes healthy and flapping URLs in parallel, then runs the command', async () => {
    const run = await runBundle('smoke', {
      inputs: {
        ...fast,
        urls: `${server.url}/health/ready\n${server.url}/flapping\n${server.url}/auth`,
        'expect-body': '$.status == "ok"',
        headers: 'Authorization: Bearer smoke-bearer-5e1d0b',
        // It prints how many INPUT_ variables it sees: the step's inputs are not passed on.
        command:
          "node -e \"console.log('3 smoke tests passing', Object.keys(process.env).filter((k) => k.startsWith('INPUT_')).length)\"",
      },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.passed).toBe('true');
    const results = JSON.parse(run.outputs.results) as CheckResult[];
    expect(
      results.map((result: { kind: string; passed: boolean; attempts: number }) => [
        result.kind,
        result.passed,
        result.attempts,
      ]),
    ).toEqual([
      ['url', true, 1],
      ['url', true, 3],
      ['url', true, 1],
      ['command', true, 1],
    ]);
    expect(run.stdout).toContain('3 smoke tests passing 0');
    expect(run.summary).toContain(
      '<th>Check</th><th>Result</th><th>Attempts</th><th>Latency</th><th>Last failure</th>',
    );
    expect(run.stdout).toContain('::add-mask::Bearer smoke-bearer-5e1d0b');
    expect(visible(run.everything)).not.toContain('smoke-bearer-5e1d0b');
  });

  it('runs the command in working-directory (a monorepo service), and names a missing one', async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-workspace-'));
    try {
      fs.mkdirSync(path.join(workspace, 'services/api'), { recursive: true });
      fs.writeFileSync(path.join(workspace, 'services/api/smoke.sh'), 'echo "smoke ran in $(pwd)"\n');
      const run = await runBundle('smoke', {
        cwd: workspace,
        inputs: { ...fast, command: 'sh smoke.sh', 'working-directory': 'services/api' },
      });
      expect([run.code, run.errors]).toEqual([0, []]);
      expect(run.stdout).toContain(`smoke ran in ${fs.realpathSync(path.join(workspace, 'services/api'))}`);
      const missing = await runBundle('smoke', {
        cwd: workspace,
        inputs: { ...fast, command: 'sh smoke.sh', 'working-directory': 'services/web' },
      });
      expect(missing.code).toBe(1);
      expect(missing.errors.join('\n')).toMatch(
        /Input "working-directory" is "services\/web", but .* is not a directory/,
      );
    } finally {
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });

  it('fails on a wrong body, a 404 and a slow endpoint, with the evidence in the summary', async () => {
    const run = await runBundle('smoke', {
      inputs: {
        ...fast,
        urls: `${server.url}/wrong-body\n${server.url}/missing\n${server.url}/slow`,
        'expect-body': '$.status == "ok"',
        attempts: '2',
        'request-timeout': '100ms',
        command: 'echo never',
      },
    });
    expect(run.code).toBe(1);
    expect(run.outputs.passed).toBe('false');
    const results = JSON.parse(run.outputs.results) as CheckResult[];
    expect(results).toEqual([
      expect.objectContaining({ check: `${server.url}/wrong-body`, passed: false, attempts: 2, lastStatus: 200 }),
      expect.objectContaining({ check: `${server.url}/missing`, passed: false, attempts: 1, lastStatus: 404 }),
      expect.objectContaining({
        check: `${server.url}/slow`,
        passed: false,
        attempts: 2,
        error: expect.stringContaining('request timeout') as string,
      }),
      expect.objectContaining({ kind: 'command', skipped: true }),
    ]);
    expect(run.summary).toContain('$.status is "degraded", expected "ok"');
    expect(run.summary).toContain('{"status":"degraded","missing":["idempotency_keys"]}');
    expect(run.errors[0]).toMatch(/^Smoke checks failed: .*\/missing: status 404, expected 200/);
  });

  it('lists the tables that differ from what the migrations expect, never printing the connection string', async () => {
    const run = await runBundle('smoke', {
      inputs: {
        'database-url': database.url,
        'expected-tables': 'tickets\nidempotency_keys\n!failed_login_attempts\n!multisig_approvals',
      },
    });
    expect(run.code).toBe(1);
    expect(run.outputs.passed).toBe('false');
    const [result] = JSON.parse(run.outputs.results) as CheckResult[];
    expect(result).toMatchObject({
      kind: 'database',
      missingTables: [],
      unexpectedTables: ['failed_login_attempts', 'multisig_approvals'],
    });
    expect(run.summary).toContain(
      'Tables that should be gone but still exist: <code>failed_login_attempts</code>, <code>multisig_approvals</code>',
    );
    // The database as host:port/database only: never its user-info or password.
    const url = new URL(database.url);
    expect(run.summary).toContain(`Database: ${url.hostname}:${url.port}${url.pathname}.`);
    expect(url.password).not.toBe('');
    expect(visible(run.everything)).not.toContain(database.url);
    expect(visible(run.everything)).not.toContain(decodeURIComponent(url.password));
    expect(run.summary).not.toContain(`${decodeURIComponent(url.username)}:`);
  });

  it('passes the table check when the schema is as expected', async () => {
    const run = await runBundle('smoke', {
      inputs: { 'database-url': database.url, 'expected-tables': 'tickets\nfailed_login_attempts\n!no_such_table' },
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs.passed).toBe('true');
  });

  it.each([
    [
      'a URL that is not http(s)',
      { urls: 'ftp://example.com/health' },
      'Input "urls" has "ftp://example.com/health" with scheme "ftp". Valid values are: [http, https].',
    ],
    [
      'a URL that is not a URL',
      { urls: 'api.example.com/health' },
      /^Input "urls" has "api\.example\.com\/health", which is not a URL/,
    ],
    [
      'expected-status abc',
      { urls: 'https://api.example.com/health', 'expected-status': 'abc' },
      /^Input "expected-status" has "abc", which is not an HTTP status\. Valid values are:/,
    ],
    [
      'an expect-body that does not parse',
      { urls: 'https://api.example.com/health', 'expect-body': '$.status == ok' },
      /^Input "expect-body" is "\$\.status == ok": the value after == must be JSON/,
    ],
    [
      'attempts of zero',
      { urls: 'https://api.example.com/health', attempts: '0' },
      /^Input "attempts" is 0: it must be a whole number from 1 to 1000/,
    ],
    [
      'tables without a database',
      { 'expected-tables': 'tickets' },
      /^Input "expected-tables" is set but "database-url" is not/,
    ],
    ['nothing to check', {}, /^Nothing to check/],
  ])('refuses %s', async (_label, inputs, message) => {
    const run = await runBundle('smoke', { inputs });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([typeof message === 'string' ? message : expect.stringMatching(message)]);
    expect(run.outputs).toEqual({ passed: 'false', results: '[]' });
  });
});
