import { expect } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recordMarkdown } from '../../src/report/markdown.js';
import { buildRecord, recordBaseName } from '../../src/report/record.js';
import { parseS3Uri, uploadToS3 } from '../../src/report/s3.js';
import { runBundle } from '../helpers/run-bundle.js';
import { startGitHubApi, type GitHubApiFake } from '../fakes/github-api.js';
import { startS3, type S3Fake } from '../fakes/s3.js';

const plan = [
  { name: '007_add_security_tables.ts', batch: 2, transaction: true },
  { name: '006_add_ticket_state_machine.ts', batch: 2, transaction: true },
];
const before = [
  '001_create_tickets.ts',
  '002_add_ticket_scans.ts',
  '003_add_blockchain_tracking.ts',
  '004_add_rls_role_verification.ts',
  '005_add_idempotency_keys.ts',
  '006_add_ticket_state_machine.ts',
  '007_add_security_tables.ts',
];
const after = before.slice(0, 5);
const sql =
  '-- 007_add_security_tables.ts\nDROP TABLE IF EXISTS failed_login_attempts;\n-- a comment with ``` backticks';

describe('the rollback record', () => {
  const record = buildRecord(
    {
      result: 'succeeded',
      environment: 'production',
      database: 'tickettoken-production',
      method: 'rollback',
      ref: 'c0ffee'.padEnd(40, '0'),
      reason: '007 broke checkout | see #123',
      requestedBy: 'alice',
      approvals: [{ user: 'bob', state: 'approved', environments: ['production-rollback'] }],
      plan,
      planFingerprint: 'ab'.repeat(32),
      sql,
      snapshotIdentifier: 'pre-rollback-20261129-031500',
      appliedBefore: before,
      appliedAfter: after,
      rolledBack: plan.map((step) => step.name),
      steps: {
        'verify-backup': 'success',
        snapshot: 'success',
        rollback: 'success',
        restart: 'success',
        smoke: 'success',
        'still-rolled-back': 'success',
      },
      startedAt: '2026-11-29T03:15:00Z',
    },
    {
      repository: 'example/ticket-service',
      runUrl: 'https://github.com/example/ticket-service/actions/runs/4242',
      runId: '4242',
      runAttempt: '1',
    },
    new Date('2026-11-29T03:21:30Z'),
  );

  it('holds who, why, what and when', () => {
    expect(record).toMatchObject({
      requestedBy: 'alice',
      approvedBy: ['bob'],
      durationSeconds: 390,
      rolledBack: ['007_add_security_tables.ts', '006_add_ticket_state_machine.ts'],
      steps: expect.arrayContaining([{ name: 'rollback', outcome: 'success' }]),
    });
    expect(recordBaseName(record)).toBe('rollback-production-20261129T032130Z-run4242-1');
  });

  it('renders Markdown an auditor can read, with the SQL fenced safely and table cells escaped', () => {
    const markdown = recordMarkdown(record);
    expect(markdown).toContain('| Reason | 007 broke checkout \\| see #123 |');
    expect(markdown).toContain('| Approved by | bob |');
    expect(markdown).toContain('No longer applied: `006_add_ticket_state_machine.ts`, `007_add_security_tables.ts`');
    expect(markdown).toContain('````sql\n-- 007_add_security_tables.ts');
    expect(markdown).toMatch(/\| 1 \| `007_add_security_tables.ts` \| 2 \| yes \|/);
    expect(markdown).toContain('| Duration | 390s |');
  });

  it('says plainly what it was not given', () => {
    const markdown = recordMarkdown(buildRecord({ approvals: [] }, {}));
    expect(markdown).toContain('_No plan was passed._');
    expect(markdown).toContain('_No SQL was passed._');
    expect(markdown).toContain('# Migration rollback record: unknown');
  });

  it('parses S3 URIs and refuses what is not one', () => {
    expect(parseS3Uri('s3://audit-records/rollbacks')).toEqual({ bucket: 'audit-records', prefix: 'rollbacks/' });
    expect(parseS3Uri('s3://audit-records')).toEqual({ bucket: 'audit-records', prefix: '' });
    expect(parseS3Uri('https://audit-records.s3.amazonaws.com/x')).toHaveProperty('error');
    expect(parseS3Uri('s3://Audit_Records/x')).toHaveProperty('error');
  });
});

describe('the record copied to a local S3', () => {
  let s3: S3Fake;
  const saved = { ...process.env };
  beforeAll(async () => {
    s3 = await startS3();
    process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
  });
  afterAll(async () => {
    process.env = saved;
    await s3.close();
  });

  it('PUTs each file path-style at the custom endpoint', async () => {
    const uris = await uploadToS3(
      { bucket: 'audit-records', prefix: 'rollbacks/' },
      [{ name: 'r.json', body: '{"a":1}', contentType: 'application/json' }],
      { region: 'eu-west-1', endpoint: s3.url },
    );
    expect(uris).toEqual(['s3://audit-records/rollbacks/r.json']);
    expect(s3.objects.get('audit-records/rollbacks/r.json')?.body.toString()).toBe('{"a":1}');
    expect(s3.requests.at(-1)).toMatchObject({ method: 'PUT', path: '/audit-records/rollbacks/r.json' });
  });

  it('takes the endpoint from AWS_ENDPOINT_URL_S3', async () => {
    process.env.AWS_ENDPOINT_URL_S3 = s3.url;
    try {
      await uploadToS3(
        { bucket: 'audit-records', prefix: '' },
        [{ name: 'env.md', body: '# hi', contentType: 'text/markdown' }],
        { region: 'eu-west-1' },
      );
    } finally {
      delete process.env.AWS_ENDPOINT_URL_S3;
    }
    expect(s3.objects.get('audit-records/env.md')?.body.toString()).toBe('# hi');
  });

  it("fails with S3's own error for a missing bucket", async () => {
    await expect(
      uploadToS3({ bucket: 'no-such-bucket', prefix: '' }, [{ name: 'x', body: 'x', contentType: 'text/plain' }], {
        region: 'eu-west-1',
        endpoint: s3.url,
      }),
    ).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });
});

describe('dist/record', () => {
  let s3: S3Fake;
  let github: GitHubApiFake;
  let work: string;
  beforeAll(async () => {
    [s3, github] = await Promise.all([startS3(), startGitHubApi()]);
    github.approvals.set('4242', [{ user: 'bob', state: 'approved', environments: ['production-rollback'] }]);
    const at = (minute: number) => `2026-11-29T03:${String(minute).padStart(2, '0')}:00Z`;
    const step = (name: string, from: number, to: number, conclusion = 'success') => ({
      name,
      number: from,
      conclusion,
      started_at: at(from),
      completed_at: at(to),
    });
    github.jobs.set('4242/1', [
      {
        name: 'rollback / Plan (read-only)',
        conclusion: 'success',
        started_at: at(10),
        completed_at: at(12),
        steps: [step('Set up job', 10, 10), step('Plan against production', 10, 11)],
      },
      {
        name: 'rollback / Execute (approved)',
        conclusion: 'success',
        started_at: at(15),
        completed_at: at(21),
        steps: [step('Snapshot before the change', 15, 18), step('Roll back exactly the approved plan', 18, 19)],
      },
      { name: 'rollback / Record', conclusion: null, started_at: at(21), completed_at: null, steps: [] },
    ]);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'record-'));
  });
  afterAll(async () => {
    await Promise.all([s3.close(), github.close()]);
    fs.rmSync(work, { recursive: true, force: true });
  });
  const env = () => ({
    GITHUB_API_URL: github.url,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3.url,
    AWS_REGION: 'eu-west-1',
  });
  const inputs = (extra: Record<string, string> = {}) => ({
    result: 'succeeded',
    environment: 'production',
    database: 'tickettoken-production',
    method: 'rollback',
    ref: 'c0ffee'.padEnd(40, '0'),
    reason: '007 broke checkout',
    plan: JSON.stringify(plan),
    'plan-fingerprint': 'ab'.repeat(32),
    sql,
    'snapshot-identifier': 'pre-rollback-20261129-031500',
    'applied-before': JSON.stringify(before),
    'applied-after': JSON.stringify(after),
    'rolled-back': JSON.stringify(plan.map((step) => step.name)),
    steps: JSON.stringify({ rollback: 'success', restart: 'success' }),
    'started-at': '2026-11-29T03:15:00Z',
    'github-token': github.token,
    'gate-environment': 'production-rollback',
    ...extra,
  });

  it('names a database given as a URL by host:port/database only, scrubs its secrets from every field, and keeps sql-file', async () => {
    const directory = path.join(work, 'url');
    const sqlFile = path.join(work, 'complete.sql');
    fs.writeFileSync(sqlFile, '-- 007_add_security_tables.ts\nDROP TABLE failed_login_attempts; -- destructive\n');
    const run = await runBundle('record', {
      env: env(),
      inputs: inputs({
        directory,
        database: 'postgres://deploy:Sup3rS3cretPw@db.internal.example:6543/tickets?sslkey=%2Fkeys%2Fclient.key',
        reason: 'pasted by mistake: Sup3rS3cretPw',
        'sql-file': sqlFile,
      }),
    });
    expect(run.code).toBe(0);
    const json = fs.readFileSync(run.outputs['json-path'], 'utf8');
    const markdown = fs.readFileSync(run.outputs['markdown-path'], 'utf8');
    // The ::add-mask:: commands are the runner's, consumed and never shown.
    const shownLog = run.everything
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n');
    for (const shown of [shownLog, json, markdown]) {
      expect(shown).not.toContain('Sup3rS3cretPw');
      expect(shown).not.toContain('deploy:');
      expect(shown).not.toContain('client.key');
    }
    const record = JSON.parse(json) as { database: string; sqlFiles: string[] };
    expect(record.database).toBe('db.internal.example:6543/tickets');
    expect(run.summary).toContain('db.internal.example:6543/tickets');
    expect(record.sqlFiles).toEqual([`${path.basename(run.outputs['json-path'], '.json')}.sql`]);
    expect(fs.readFileSync(path.join(directory, record.sqlFiles[0]), 'utf8')).toContain(
      'DROP TABLE failed_login_attempts;',
    );
    expect(markdown).toContain(`The complete SQL is kept beside this record: \`${record.sqlFiles[0]}\``);
  });

  it('shows a reason and a requester someone typed as text in the summary and the Markdown, never as markup', async () => {
    const directory = path.join(work, 'forged');
    const run = await runBundle('record', {
      env: env(),
      inputs: inputs({
        directory,
        reason: '<h1>FAKE: rollback approved</h1>',
        'requested-by': '<a href="https://evil.example/approve">approve</a>',
      }),
    });
    expect(run.code).toBe(0);
    const markdown = fs.readFileSync(run.outputs['markdown-path'], 'utf8');
    for (const shown of [run.summary, markdown]) {
      expect(shown).not.toMatch(/<h1>FAKE|<a href/);
      expect(shown).toContain('&lt;h1&gt;FAKE: rollback approved&lt;/h1&gt;');
      expect(shown).toContain('&lt;a href="https://evil.example/approve"&gt;approve&lt;/a&gt;');
    }
    // The JSON keeps what was typed: it is data, not a page.
    expect(JSON.parse(fs.readFileSync(run.outputs['json-path'], 'utf8'))).toMatchObject({
      reason: '<h1>FAKE: rollback approved</h1>',
    });
  });

  it('writes JSON and Markdown files, the summary, and the S3 copy', async () => {
    const directory = path.join(work, 'ok');
    const run = await runBundle('record', {
      env: env(),
      inputs: inputs({ directory, 's3-uri': 's3://audit-records/rollbacks/' }),
    });
    expect(run.code).toBe(0);
    expect(run.outputs.directory).toBe(directory);
    const saved = JSON.parse(fs.readFileSync(run.outputs['json-path'], 'utf8')) as { jobs: Array<{ name: string }> };
    expect(saved).toMatchObject({
      schema: 'db-rollback-actions/record@1',
      result: 'succeeded',
      requestedBy: 'on-call-engineer',
      approvedBy: ['bob'],
      reason: '007 broke checkout',
      runId: '4242',
    });
    const markdown = fs.readFileSync(run.outputs['markdown-path'], 'utf8');
    expect(markdown).toContain('| Approved by | bob |');
    // The timeline comes from the jobs API, across its pages (the fake lists two jobs a page).
    expect(saved.jobs.map((job: { name: string }) => job.name)).toEqual([
      'rollback / Plan (read-only)',
      'rollback / Execute (approved)',
      'rollback / Record',
    ]);
    expect(markdown).toContain('| &nbsp;&nbsp;Snapshot before the change | success | 2026-11-29 03:15:00 | 3m 0s |');
    expect(markdown).toContain('| **rollback / Record** | running |');
    expect(markdown).not.toContain('Set up job');
    expect(run.summary).toContain('# Migration rollback record: ✅ succeeded');
    const uris = JSON.parse(run.outputs['s3-uris']) as string[];
    expect(uris).toHaveLength(2);
    for (const uri of uris) expect(s3.objects.has(uri.slice('s3://'.length))).toBe(true);
    const copy = s3.objects.get(uris[0].slice('s3://'.length))!;
    expect(JSON.parse(copy.body.toString())).toEqual(saved);
  });

  it('keeps a JSON input that does not parse verbatim, and warns', async () => {
    const run = await runBundle('record', {
      env: env(),
      inputs: inputs({ directory: path.join(work, 'cut'), plan: '[{"name": "007_add' }),
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/::warning::Input "plan" is not valid JSON/);
    expect(
      (JSON.parse(fs.readFileSync(run.outputs['json-path'], 'utf8')) as { unparsed: { plan: string } }).unparsed.plan,
    ).toBe('[{"name": "007_add');
  });

  it('fails when the S3 copy fails, after writing the files and the summary', async () => {
    const run = await runBundle('record', {
      env: env(),
      inputs: inputs({ directory: path.join(work, 'nobucket'), 's3-uri': 's3://missing-bucket/x/' }),
    });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/Copying the record to s3:\/\/missing-bucket\/x\/ failed \(NoSuchBucket/);
    expect(fs.existsSync(run.outputs['json-path'])).toBe(true);
    expect(run.summary).toContain('Migration rollback record');
    expect(run.outputs['s3-uris']).toBe('[]');
  });

  it('refuses a bad s3-uri and started-at before writing anything', async () => {
    const directory = path.join(work, 'bad');
    const bad = await runBundle('record', { env: env(), inputs: inputs({ directory, 's3-uri': 'audit-records/x' }) });
    expect(bad.code).toBe(1);
    expect(bad.errors.join('\n')).toMatch(/Input "s3-uri" is "audit-records\/x": it must look like s3:\/\/bucket/);
    const time = await runBundle('record', { env: env(), inputs: inputs({ directory, 'started-at': 'yesterday' }) });
    expect(time.errors.join('\n')).toMatch(/Input "started-at" is "yesterday"/);
    expect(fs.existsSync(directory)).toBe(false);
  });
});
