import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import knexFactory from 'knex';
import pg from 'pg';
import { postgresConfig } from '../../src/postgres/connection.js';
import { startPasswordServer, type PasswordServer } from '../fakes/postgres-password-server.js';
import { makeCertificates, type TestCertificates } from '../helpers/certificates.js';
import { adminQuery, createDatabase, type TestDatabase } from '../helpers/database.js';
import { repoRoot, runBundle, type BundleRun } from '../helpers/run-bundle.js';
import { BATCH_ONE, BATCH_TWO, migrateTicketService, ticketServiceDir } from '../helpers/ticket-service.js';
import { copyProject, rollbackOptions, runRollback } from '../rollback/helpers.js';
import { startEmbeddedPostgres } from '../support/embedded-postgres.js';

// The bundles (build them first: npm run build rollback smoke verify-reversible) against a
// TLS-only PostgreSQL signed by a private CA, as RDS with rds.force_ssl = 1 is, reached by a
// user whose password holds @ / % #.

const PASSWORD = `p@ss/w%rd#x-${Math.random().toString(36).slice(2, 8)}`;
/** The job's AWS credentials, as aws-actions/configure-aws-credentials exports them. */
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_EC2_METADATA_DISABLED: 'true',
};
let certificates: TestCertificates;
let server: Awaited<ReturnType<typeof startEmbeddedPostgres>>;
let project: string;
let url: string;
const runs: BundleRun[] = [];

/** What a user sees: the runner consumes ::add-mask:: lines, which necessarily carry the secret. */
function visible(run: BundleRun): string {
  return run.everything
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
}

async function bundle(name: string, inputs: Record<string, string>, env: Record<string, string> = {}) {
  const run = await runBundle(name, { inputs, cwd: project, env });
  runs.push(run);
  return run;
}

beforeAll(async () => {
  certificates = makeCertificates();
  server = await startEmbeddedPostgres({ tls: { cert: certificates.serverCert, key: certificates.serverKey } });
  const admin = new pg.Client(postgresConfig({ url: server.adminUrl, sslCa: certificates.caPem }));
  await admin.connect();
  await admin.query(`CREATE ROLE app_user LOGIN SUPERUSER PASSWORD '${PASSWORD}'`);
  await admin.query('CREATE DATABASE tickets OWNER app_user');
  await admin.end();
  url = `postgres://app_user:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}/tickets`;
  const knex = knexFactory({ client: 'pg', connection: postgresConfig({ url, sslCa: certificates.caPem }) });
  await migrateTicketService(knex);
  await knex.destroy();
  project = copyProject(ticketServiceDir);
});

afterAll(async () => {
  await server?.stop();
  certificates?.remove();
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

describe('the actions over verified TLS', () => {
  it('rolls back over TLS verified through ssl-ca (PEM text), with no sslmode in the URL', async () => {
    const run = await bundle('rollback', {
      'database-url': url,
      'ssl-ca': certificates.caPem,
      knexfile: 'knexfile.ts',
      mode: 'rollback',
      'allow-destructive': 'true',
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Database: 127.0.0.1:${server.port}/tickets (TLS, certificate verified; password).`);
    expect(JSON.parse(run.outputs['rolled-back'])).toEqual([
      '007_add_security_tables.ts',
      '006_add_ticket_state_machine.ts',
    ]);
  });

  it('checks expected-tables over TLS verified through ssl-ca as a path', async () => {
    const run = await bundle('smoke', {
      'database-url': `${url}?sslmode=verify-full`,
      'ssl-ca': certificates.caFile,
      'expected-tables': 'tickets\n!failed_login_attempts',
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs.passed).toBe('true');
  });

  it('verifies reversibility on scratch databases of the TLS server', async () => {
    const run = await bundle('verify-reversible', {
      'database-url': url,
      'ssl-ca': certificates.caPem,
      'migrations-dir': path.join(repoRoot, 'test/fixtures/reversibility/exact/migrations'),
      only: '001_create_tickets.ts\n002_rename_title.ts',
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.checked).toBe('2');
  });

  it('says to add sslmode=verify-full when the URL has none and no ssl-ca is given, without a stack trace', async () => {
    const run = await bundle('rollback', { 'database-url': url, knexfile: 'knexfile.ts', mode: 'status' });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toContain(`could not connect to 127.0.0.1:${server.port}/tickets`);
    expect(run.errors[0]).toContain('add ?sslmode=verify-full');
    expect(run.stdout).not.toMatch(/^\s+at /m);
  });

  it('names ssl-ca and the RDS bundle when verify-full meets an unknown CA', async () => {
    const run = await bundle('smoke', {
      'database-url': `${url}?sslmode=verify-full`,
      'expected-tables': 'tickets',
    });
    expect(run.outputs.passed).toBe('false');
    expect(run.errors.join('\n')).toMatch(/not signed by a CA this action trusts.*"ssl-ca"/);
  });

  it('refuses the password pasted unencoded, and the log holds nothing of it', async () => {
    const pasted = `postgres://app_user:${PASSWORD}@127.0.0.1:${server.port}/tickets`;
    const run = await bundle('rollback', {
      'database-url': pasted,
      'ssl-ca': certificates.caPem,
      knexfile: 'knexfile.ts',
      mode: 'status',
    });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toContain('cannot be read unambiguously');
    expect(run.errors[0]).toContain('%40');
    for (const piece of [PASSWORD, 'p@ss', 'ss/w', 'w%rd', 'rd#x', PASSWORD.slice(-6)])
      expect(visible(run)).not.toContain(piece);
  });

  it('writes the password in no log line, output or summary of any run', () => {
    expect(runs.length).toBeGreaterThanOrEqual(6);
    for (const run of runs) {
      expect(visible(run)).not.toContain(PASSWORD);
      expect(visible(run)).not.toContain(encodeURIComponent(PASSWORD));
    }
  });
});

describe('iam-auth through the smoke bundle', () => {
  let fake: PasswordServer;
  beforeAll(async () => {
    fake = await startPasswordServer({ cert: certificates.serverCert, key: certificates.serverKey });
  });
  afterAll(() => fake?.close());

  it('sends the token over verified TLS and masks it', async () => {
    const run = await bundle(
      'smoke',
      {
        'database-url': `postgres://iam_user@127.0.0.1:${fake.port}/orders`,
        'ssl-ca': certificates.caPem,
        'iam-auth': 'true',
        'aws-region': 'eu-west-1',
        'expected-tables': 'tickets',
      },
      AWS_ENV,
    );
    expect(run.stdout).toContain(
      `Database: 127.0.0.1:${fake.port}/orders (TLS, certificate verified; IAM authentication).`,
    );
    expect(fake.logins).toHaveLength(1);
    const token = fake.logins[0].password;
    expect(fake.logins[0]).toMatchObject({ user: 'iam_user', encrypted: true });
    expect(token).toMatch(new RegExp(`^127\\.0\\.0\\.1:${fake.port}/\\?Action=connect&DBUser=iam_user&`));
    // The fake answers no query: the check fails after authenticating, which is all this needs.
    expect(run.outputs.passed).toBe('false');
    // @actions/core escapes % in workflow commands; the runner unescapes it.
    expect(run.stdout).toContain(`::add-mask::${token.replace(/%/g, '%25')}`);
    expect(run.stdout).not.toContain('::add-mask::iam_user\n');
    expect(visible(run)).not.toContain(token);
    expect(visible(run)).not.toContain(new URLSearchParams(token.split('?')[1]).get('X-Amz-Signature'));
  });
});

describe('iam-auth through the rollback, over real PostgreSQL', () => {
  // The fake takes the token over TLS as RDS does, then logs in to the tests' shared server with
  // the role's real password and relays the session: Knex and pg run real queries.
  const role = `iam_${crypto.randomBytes(3).toString('hex')}`;
  const rolePassword = `pw-${crypto.randomBytes(6).toString('hex')}`;
  let database: TestDatabase;
  let relay: PasswordServer;
  let iamUrl: string;

  beforeAll(async () => {
    database = await createDatabase('iam_rollback');
    await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${rolePassword}'`);
    await adminQuery(`ALTER DATABASE "${database.name}" OWNER TO ${role}`);
    const direct = new URL(database.url);
    direct.username = role;
    direct.password = rolePassword;
    const knex = knexFactory({ client: 'pg', connection: postgresConfig({ url: direct.toString() }) });
    await migrateTicketService(knex);
    await knex.destroy();
    relay = await startPasswordServer({
      cert: certificates.serverCert,
      key: certificates.serverKey,
      upstream: { host: direct.hostname, port: Number(direct.port), password: rolePassword },
    });
    iamUrl = `postgres://${role}@127.0.0.1:${relay.port}/${database.name}`;
  });
  afterAll(async () => {
    await relay?.close();
    await database?.drop();
    await adminQuery(`DROP ROLE IF EXISTS ${role}`);
  });

  it("signs a token for each connection of Knex's pool and for the watch connection", async () => {
    const tokens: string[] = [];
    const before = relay.logins.length;
    const result = await runRollback(
      rollbackOptions(iamUrl, {
        mode: 'plan',
        dryRun: true,
        allowDestructive: true,
        security: {
          sslCa: certificates.caPem,
          iamAuth: true,
          awsRegion: 'eu-west-1',
          iamCredentials: { accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: AWS_ENV.AWS_SECRET_ACCESS_KEY },
          onSecret: (token) => tokens.push(token),
        },
      }),
    );
    expect(result.plan.map((step) => step.name)).toEqual([
      '007_add_security_tables.ts',
      '006_add_ticket_state_machine.ts',
    ]);
    const logins = relay.logins.slice(before);
    // Knex clones its connection config (cloneDeepWith): the password function survived it, as
    // the pool's sessions sent a token, and so did the watch connection, which pg opens itself.
    expect(logins.map((login) => login.parameters.application_name)).toEqual(
      expect.arrayContaining(['rollback-test', 'rollback-test (watch)']),
    );
    // One signing per connection: no token is reused by a second connection.
    expect(tokens).toHaveLength(logins.length);
    expect(logins.map((login) => login.password).sort()).toEqual([...tokens].sort());
    for (const login of logins) {
      expect(login).toMatchObject({ user: role, database: database.name, encrypted: true });
      expect(login.password).toMatch(new RegExp(`^127\\.0\\.0\\.1:${relay.port}/\\?Action=connect&DBUser=${role}&`));
    }
  });

  it('reports status through the rollback bundle, every token masked', async () => {
    const before = relay.logins.length;
    const run = await bundle(
      'rollback',
      {
        'database-url': iamUrl,
        'ssl-ca': certificates.caPem,
        'iam-auth': 'true',
        'aws-region': 'eu-west-1',
        knexfile: 'knexfile.ts',
        mode: 'status',
      },
      AWS_ENV,
    );
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `Database: 127.0.0.1:${relay.port}/${database.name} (TLS, certificate verified; IAM authentication).`,
    );
    expect(JSON.parse(run.outputs.applied)).toEqual([...BATCH_ONE, ...BATCH_TWO]);
    const tokens = relay.logins.slice(before).map((login) => login.password);
    expect(tokens.length).toBeGreaterThanOrEqual(1);
    for (const token of tokens) {
      expect(run.stdout).toContain(`::add-mask::${token.replace(/%/g, '%25')}`);
      expect(visible(run)).not.toContain(token);
      expect(visible(run)).not.toContain(new URLSearchParams(token.split('?')[1]).get('X-Amz-Signature'));
    }
  });
});
