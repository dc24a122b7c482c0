// `npm run demo`: the runbook's whole pipeline on this machine, with no cloud account.
//
// Production is played by an embedded PostgreSQL on a free port holding the ticket-service
// fixture migrated to 007 in two batches (006 and 007 are the bad deploy), the local RDS
// and Kubernetes API servers from the tests, a Slack webhook, a small ticket service
// whose /health/ready reads the schema, and Prometheus and CloudWatch APIs serving its
// figures. Each step runs a dist bundle the way the GitHub runner does (Node 24, INPUT_*
// variables with the action.yml defaults, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files) and
// prints what the job summary would show.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { startEmbeddedPostgres } from '../test/support/embedded-postgres.js';
import { FileMigrationSource, listMigrationFiles } from '../src/migrations/source.js';
import { BATCH_ONE } from '../test/helpers/ticket-service-batches.js';
import { actionDefaults, repoRoot, runBundle, type BundleRun } from '../test/helpers/run-bundle.js';
import { startFakeRds } from '../test/fakes/rds-server.js';
import { startKubeApiServer } from '../test/fakes/kube-api-server.js';
import { startSlackWebhook } from '../test/fakes/slack-webhook.js';
import { startTicketService } from '../test/fakes/ticket-service-app.js';
import { startGitHubApi } from '../test/fakes/github-api.js';
import { startFakePrometheus } from '../test/fakes/prometheus-server.js';
import { startFakeCloudWatch } from '../test/fakes/cloudwatch-server.js';

const migrationsDir = path.join(repoRoot, 'test/fixtures/ticket-service/migrations');
const INSTANCE = 'tickettoken-production';
const GATE = 'production-rollback';
const RUN_ID = '4242';
const REASON = '007 broke checkout: failed_login_attempts locks the tickets table; roll back 006 and 007';
/** The tables the ticket service's previous release reads (what 001-005 create). */
const PREVIOUS_RELEASE_TABLES = [
  'tickets',
  'ticket_scans',
  'blockchain_sync_log',
  'pending_transactions',
  'idempotency_keys',
];
const PROMETHEUS_TOKEN = 'demo-prometheus-token';
// The monitor step's checks, as the README's ticket-service example, over the demo's short window.
const ERROR_RATE =
  'sum(rate(http_requests_total{job="ticket-service",status=~"5.."}[10s])) / sum(rate(http_requests_total{job="ticket-service"}[10s]))';
const P99_LATENCY =
  'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="ticket-service"}[10s])))';
const MONITOR_CHECKS = `- name: 5xx rate
  query: '${ERROR_RATE}'
  max: 0.01
- name: p99 latency (s)
  query: '${P99_LATENCY}'
  max: 0.5
- name: RDS connections
  cloudwatch:
    namespace: AWS/RDS
    metric: DatabaseConnections
    dimensions: { DBInstanceIdentifier: ${INSTANCE} }
    stat: Maximum
    period: 1s
  max: 80
`;
const BAD_DEPLOY_TABLES = [
  'ticket_state_transitions',
  'failed_login_attempts',
  'user_spending_limits',
  'multisig_approvals',
];

const cleanups: Array<() => Promise<unknown>> = [];
/** Bundles still running: an interrupt stops them before the servers they talk to. */
const running = new Set<ChildProcess>();
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of running) child.kill('SIGTERM');
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  })();
  return cleaning;
}
// Ctrl-C: stop every server and the database before leaving, so nothing keeps running.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping the local servers and PostgreSQL...`);
    void cleanUp().finally(() => process.exit(code));
  });
}

/** Runs one action's bundle with its action.yml defaults, as the runner would, and prints its summary. */
async function step(
  title: string,
  action: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<BundleRun> {
  const started = Date.now();
  console.log(`\n\x1b[1m▶ ${title}\x1b[0m  (actions/${action})`);
  if (cleaning) throw new Error('interrupted');
  const run = await runBundle(action, {
    inputs: { ...actionDefaults(action), ...inputs },
    env,
    onSpawn: (child) => {
      running.add(child);
      child.on('close', () => running.delete(child));
    },
  });
  const summary = terminalText(run.summary);
  if (summary) console.log(indent(summary));
  for (const line of run.stdout.split('\n'))
    if (line.startsWith('::warning')) console.log(indent(`warning: ${line.replace(/^::warning[^:]*::/, '')}`));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (run.code !== 0) {
    for (const error of run.errors) console.log(indent(`error: ${error}`));
    if (!run.errors.length) console.log(indent(run.stderr.trim() || run.stdout.trim()));
    throw new Error(`${title} failed (actions/${action}, exit ${run.code}) after ${seconds}s`);
  }
  console.log(indent(`✔ done in ${seconds}s`));
  return run;
}

/** The job summary as a terminal shows it: markdown kept, HTML tags and entities dropped. */
function terminalText(markdown: string): string {
  return (
    markdown
      .replace(/<summary>(.*?)<\/summary>/g, '$1')
      .replace(/<br\s*\/?>/g, '\n')
      // core.summary writes HTML tables: one line per row, cells separated as in markdown.
      .replace(/<\/t[hd]>\s*<t[hd][^>]*>/g, ' | ')
      .replace(/<\/tr>/g, '\n')
      .replace(/<\/?[a-z][^>]*>/gi, '')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&')
      .replace(/\n{3,}/g, '\n\n')
      .trim()
  );
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

/** Users keep using the service while the monitor watches: a request every 50ms to its health endpoint. */
async function watchUnderTraffic<T>(url: string, body: () => Promise<T>): Promise<T> {
  let active = true;
  const traffic = (async () => {
    while (active) {
      await fetch(`${url}/health/ready`)
        .then((response) => response.text())
        .catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    return await body();
  } finally {
    active = false;
    await traffic;
  }
}

async function appliedMigrations(knex: Knex): Promise<Array<{ name: string; batch: number }>> {
  return knex('knex_migrations').select('name', 'batch').orderBy('id');
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log('db-rollback-actions demo: the migration-rollback runbook, end to end, on this machine.\n');

  console.log('Setting up "production": an embedded PostgreSQL on a free port, the ticket service at 007...');
  const postgres = await startEmbeddedPostgres({ register: (stop) => cleanups.push(stop) });
  const databaseUrl = postgres.adminUrl;
  const knex = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 2 } });
  cleanups.push(() => knex.destroy());
  const files = listMigrationFiles([migrationsDir]);
  await knex.migrate.latest({
    migrationSource: new FileMigrationSource(files.filter((file) => BATCH_ONE.includes(file.name))),
  });
  await knex.migrate.latest({ migrationSource: new FileMigrationSource(files) });
  const before = await appliedMigrations(knex);

  const rds = await startFakeRds({ snapshotDurationMs: 1500 });
  cleanups.push(() => rds.close());
  rds.addInstance(INSTANCE);
  rds.addSnapshot(`rds:${INSTANCE}-2026-11-29-02-00`, {
    source: INSTANCE,
    createTime: new Date(Date.now() - 75 * 60_000),
  });
  const kube = await startKubeApiServer({
    workloads: [{ kind: 'Deployment', name: 'ticket-service', namespace: 'production', replicas: 3 }],
    stepMs: 150,
  });
  cleanups.push(() => kube.close());
  const slack = await startSlackWebhook();
  cleanups.push(() => slack.close());
  const service = await startTicketService({ databaseUrl, requiredTables: PREVIOUS_RELEASE_TABLES });
  cleanups.push(() => service.close());
  // GitHub's REST API as the runner's token sees it: the gate environment and its approval.
  const github = await startGitHubApi();
  cleanups.push(() => github.close());
  github.environments.set(GATE, {
    name: GATE,
    reviewers: [{ type: 'User', login: 'second-engineer' }],
    preventSelfReview: true,
    deploymentBranchPolicy: { protected_branches: true, custom_branch_policies: false },
  });
  github.approvals.set(RUN_ID, [
    { user: 'second-engineer', state: 'approved', environments: [GATE], comment: 'Plan matches the incident; go.' },
  ]);
  // Prometheus and CloudWatch serve the ticket service's own figures: its requests and latency,
  // and the sessions open on its database.
  const prometheus = await startFakePrometheus({
    token: PROMETHEUS_TOKEN,
    script: {
      [ERROR_RATE]: async () => (await service.figures(10_000)).errorRate,
      [P99_LATENCY]: async () => (await service.figures(10_000)).p99Seconds,
    },
  });
  cleanups.push(() => prometheus.close());
  const cloudwatch = await startFakeCloudWatch();
  cleanups.push(() => cloudwatch.close());
  cloudwatch.put(
    { namespace: 'AWS/RDS', metric: 'DatabaseConnections', dimensions: { DBInstanceIdentifier: INSTANCE } },
    async ({ end }) => [{ at: end - 500, value: (await service.figures(10_000)).databaseConnections }],
  );
  console.log(indent(`PostgreSQL 127.0.0.1:${postgres.port}, RDS API ${rds.url}, Kubernetes API ${kube.url}`));
  console.log(
    indent(`Slack webhook ${slack.url}, GitHub API ${github.url}, ticket service ${service.url}/health/ready`),
  );
  console.log(indent(`Prometheus API ${prometheus.url}, CloudWatch API ${cloudwatch.url}`));
  console.log('\nProduction before the rollback:');
  for (const row of before) console.log(indent(`batch ${row.batch}  ${row.name}`));

  const aws = {
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'local-demo-secret-key',
    AWS_ENDPOINT_URL_RDS: rds.url,
    AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const migrationInputs = { 'database-url': databaseUrl, 'migrations-dir': migrationsDir };
  const githubEnv = { GITHUB_API_URL: github.url, GITHUB_RUN_ID: RUN_ID };
  const githubInputs = { 'github-token': github.token, 'gate-environment': GATE };

  await step('Notify: rollback requested', 'notify', {
    status: 'requested',
    'slack-webhook-url': slack.webhookUrl,
    details: JSON.stringify({ environment: 'production', method: 'rollback', reason: REASON, database: INSTANCE }),
  });
  await step(
    `Gate: ${GATE} exists and has required reviewers`,
    'check-gate',
    { environment: GATE, 'github-token': github.token },
    githubEnv,
  );
  const plan = await step('Plan: what a rollback of the last batch would undo', 'rollback', {
    ...migrationInputs,
    mode: 'plan',
    steps: '1',
  });
  console.log(indent(`The approver sees plan-fingerprint ${plan.outputs['plan-fingerprint']} and approves.`));

  await step(
    'Verify backup: a recent automated snapshot, point-in-time recovery current',
    'verify-backup',
    {
      'db-instance-identifier': INSTANCE,
      region: 'eu-west-1',
    },
    aws,
  );
  const snapshot = await step(
    'Snapshot: pre-rollback-<timestamp>, tagged with who and why',
    'snapshot',
    {
      'db-instance-identifier': INSTANCE,
      region: 'eu-west-1',
      reason: REASON,
      'poll-interval': '250ms',
    },
    aws,
  );
  await step(
    'Notify: approved, starting',
    'notify',
    {
      ...githubInputs,
      status: 'started',
      'slack-webhook-url': slack.webhookUrl,
      details: JSON.stringify({
        environment: 'production',
        method: 'rollback',
        reason: REASON,
        'snapshot-identifier': snapshot.outputs['snapshot-identifier'],
      }),
    },
    githubEnv,
  );
  const rollback = await step('Rollback: undo exactly the approved plan, atomically', 'rollback', {
    ...migrationInputs,
    mode: 'rollback',
    steps: '1',
    'expected-plan': plan.outputs['plan-fingerprint'],
    'allow-destructive': 'true',
  });
  await step('Restart: kubectl rollout restart and rollout status, without kubectl', 'restart', {
    namespace: 'production',
    workloads: 'deployment/ticket-service',
    kubeconfig: kube.kubeconfig,
    timeout: '2m',
    'poll-interval': '200ms',
  });
  await step('Smoke: health endpoint and the tables that must (not) exist', 'smoke', {
    urls: `${service.url}/health/ready`,
    'expect-body': '$.status == "ok"',
    interval: '200ms',
    'database-url': databaseUrl,
    'expected-tables': [...PREVIOUS_RELEASE_TABLES, ...BAD_DEPLOY_TABLES.map((table) => `!${table}`)].join('\n'),
  });
  const status = await step('Check: the undone migrations are still not applied after the restart', 'rollback', {
    ...migrationInputs,
    mode: 'status',
  });
  const reapplied = (JSON.parse(rollback.outputs['rolled-back']) as string[]).filter((name) =>
    (JSON.parse(status.outputs.applied) as string[]).includes(name),
  );
  if (reapplied.length) throw new Error(`Re-applied after the restart: ${reapplied.join(', ')}`);
  const monitor = await watchUnderTraffic(service.url, () =>
    step(
      'Monitor: 5xx rate, p99 latency and RDS connections against their thresholds',
      'monitor',
      {
        checks: MONITOR_CHECKS,
        'prometheus-url': prometheus.url,
        'prometheus-token': PROMETHEUS_TOKEN,
        duration: '3s',
        interval: '1s',
        'aws-region': 'eu-west-1',
      },
      aws,
    ),
  );
  const outcome = {
    environment: 'production',
    method: 'rollback',
    reason: REASON,
    database: INSTANCE,
    'snapshot-identifier': snapshot.outputs['snapshot-identifier'],
    'rolled-back': JSON.parse(rollback.outputs['rolled-back']) as string[],
  };
  await step(
    'Notify: succeeded',
    'notify',
    { ...githubInputs, status: 'succeeded', 'slack-webhook-url': slack.webhookUrl, details: JSON.stringify(outcome) },
    githubEnv,
  );
  await step(
    'Record: the rollback record for the changelog and the auditors',
    'record',
    {
      ...githubInputs,
      result: 'succeeded',
      environment: 'production',
      database: INSTANCE,
      method: 'rollback',
      ref: 'demo',
      reason: REASON,
      plan: plan.outputs.plan,
      'plan-fingerprint': plan.outputs['plan-fingerprint'],
      sql: rollback.outputs.sql ?? '',
      'snapshot-identifier': snapshot.outputs['snapshot-identifier'],
      'applied-before': plan.outputs.applied,
      'applied-after': status.outputs.applied,
      'rolled-back': rollback.outputs['rolled-back'],
      'started-at': new Date(started).toISOString(),
      steps: JSON.stringify({
        'verify-backup': 'success',
        snapshot: 'success',
        rollback: 'success',
        restart: 'success',
        smoke: 'success',
        monitor: 'success',
      }),
      details: JSON.stringify({ monitor: JSON.parse(monitor.outputs.results) as unknown }),
    },
    githubEnv,
  );

  const after = await appliedMigrations(knex);
  console.log('\nBefore and after:');
  const width = Math.max(...before.map((row) => row.name.length));
  for (const row of before) {
    const still = after.some((other) => other.name === row.name);
    console.log(indent(`${row.name.padEnd(width)}  batch ${row.batch}  ${still ? 'applied' : 'rolled back'}`));
  }
  console.log(
    indent(
      `Slack received ${slack.messages.length} messages; snapshot ${snapshot.outputs['snapshot-identifier']} is available.`,
    ),
  );
  console.log(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)}s.`);
}

try {
  await main();
} catch (error) {
  console.error(`\nDemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
  console.log('Stopped every local server and PostgreSQL; nothing left running.');
}
