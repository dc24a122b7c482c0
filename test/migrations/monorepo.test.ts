import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { actionDefaults, repoRoot, runBundle, type BundleRun } from '../helpers/run-bundle.js';

// A service repository as a new user has it: several services, `services/api` with Knex's own
// TypeScript knexfile template (module.exports, a connection read from DB_HOST that is not set
// here), two migration directories, tableName schema_migrations, migrations importing a local
// helper and a dependency that exists only in the service's own node_modules. Every action runs
// from the repository root with working-directory: services/api, as the pipeline runs them.

const fixture = path.join(repoRoot, 'test/fixtures/monorepo');
const ALL = [
  '20240101000000_create_accounts.ts',
  '20240102000000_create_invoices.ts',
  '20240103000000_add_invoice_notes.ts',
];
const SERVICE = { 'working-directory': 'services/api', knexfile: 'knexfile.ts' };

let workspace: string;
let database: TestDatabase;

beforeEach(async () => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'monorepo-'));
  fs.cpSync(fixture, workspace, { recursive: true });
  database = await createDatabase('monorepo');
});

afterEach(async () => {
  await database.drop();
  fs.rmSync(workspace, { recursive: true, force: true });
});

function rollback(inputs: Record<string, string>): Promise<BundleRun> {
  return runBundle('rollback', {
    cwd: workspace,
    inputs: { ...actionDefaults('rollback'), ...SERVICE, 'database-url': database.url, ...inputs },
  });
}

/** Migrates the database to production's applied list, the last migration in batch 2. */
async function prepare(applied: string[] = ALL): Promise<BundleRun> {
  const run = await runBundle('prepare-scratch-database', {
    cwd: workspace,
    inputs: {
      ...actionDefaults('prepare-scratch-database'),
      ...SERVICE,
      'database-url': database.url,
      applied: JSON.stringify(applied),
      plan: JSON.stringify([{ name: applied.at(-1), batch: 2 }]),
    },
  });
  expect([run.code, run.errors]).toEqual([0, []]);
  return run;
}

async function migrationRows(): Promise<Array<[string, number]>> {
  const rows = await database.query<{ name: string; batch: number }>(
    'SELECT name, batch FROM schema_migrations ORDER BY id',
  );
  return rows.map((row) => [row.name, row.batch]);
}

async function tables(): Promise<string[]> {
  const rows = await database.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'schema_migrations%' ORDER BY 1",
  );
  return rows.map((row) => row.tablename);
}

describe('a monorepo service (services/api) from its TypeScript knexfile', () => {
  it("prepare-scratch-database migrates it with the knexfile's two directories and tableName, and the service's own dependency", async () => {
    const run = await prepare();
    expect(JSON.parse(run.outputs.applied)).toEqual(ALL);
    // Production's batches for the planned rows, a lower one for the rest.
    expect(await migrationRows()).toEqual([
      [ALL[0], 1],
      [ALL[1], 1],
      [ALL[2], 2],
    ]);
    expect(await tables()).toEqual(['accounts', 'invoice_notes', 'invoices']);
    // fake-uuid exists only in services/api/node_modules.
    expect(await database.query('SELECT id FROM invoices')).toEqual([{ id: '6f1c2a9e-0000-4000-8000-000000000001' }]);
    expect(await database.query("SELECT 1 FROM pg_tables WHERE tablename = 'knex_migrations'")).toEqual([]);
    expect(run.summary).toMatch(/\| tableName \| `schema_migrations` \| knexfile knexfile\.ts \(production\) \|/);
    expect(run.summary).toMatch(/\| directory \| `db\/core, db\/billing` \| knexfile knexfile\.ts \(production\) \|/);
  }, 180_000);

  it('status, plan, dry run and rollback through the bundle, with working-directory', async () => {
    await prepare();

    const status = await rollback({ mode: 'status', schema: 'public' });
    expect([status.code, status.errors]).toEqual([0, []]);
    expect(JSON.parse(status.outputs.applied)).toEqual(ALL);
    expect(JSON.parse(status.outputs.pending)).toEqual([]);
    // Which setting came from where: the input overrides, the knexfile gives, Knex defaults the rest.
    expect(status.summary).toMatch(/\| schemaName \| `public` \| input schema \|/);
    expect(status.summary).toMatch(/\| tableName \| `schema_migrations` \| knexfile knexfile\.ts \(production\) \|/);
    expect(status.summary).toMatch(/\| disableTransactions \| `false` \| Knex's default \|/);

    const plan = await rollback({ mode: 'plan', steps: '1' });
    expect([plan.code, plan.errors]).toEqual([0, []]);
    expect((JSON.parse(plan.outputs.plan) as Array<{ name: string }>).map((step) => step.name)).toEqual([ALL[2]]);
    // The helper the migration imports is covered; the one its down() imports while it runs cannot be.
    expect(plan.summary).toContain('the local code they load: `lib/tables.ts`');
    expect(plan.summary).not.toContain('lib/cleanup.ts');

    // The dry run is the real run minus COMMIT: without allow-destructive it fails as the real run would.
    const refused = await rollback({ mode: 'plan', steps: '1', 'dry-run': 'true' });
    expect(refused.code).toBe(1);
    expect(refused.errors.join('\n')).toMatch(/re-dispatch with allow-destructive: true/);
    const dryRun = await rollback({ mode: 'plan', steps: '1', 'dry-run': 'true', 'allow-destructive': 'true' });
    expect([dryRun.code, dryRun.errors]).toEqual([0, []]);
    expect(dryRun.outputs.sql).toContain("DELETE FROM invoice_notes WHERE note = 'seeded'");
    expect(dryRun.summary).toContain('`lib/cleanup.ts`');
    expect(dryRun.summary).toMatch(
      /loaded lib\/cleanup\.ts while they ran .* this dry run's plan-fingerprint covers it/,
    );
    expect(dryRun.outputs['plan-fingerprint']).not.toBe(plan.outputs['plan-fingerprint']);
    expect(await migrationRows()).toHaveLength(3);

    const done = await rollback({
      mode: 'rollback',
      steps: '1',
      'expected-plan': plan.outputs['plan-fingerprint'],
      'allow-destructive': 'true',
    });
    expect([done.code, done.errors]).toEqual([0, []]);
    expect(JSON.parse(done.outputs['rolled-back'])).toEqual([ALL[2]]);
    expect(done.stdout).toMatch(/::warning::The downs loaded lib\/cleanup\.ts while they ran/);
    expect(await migrationRows()).toEqual([
      [ALL[0], 1],
      [ALL[1], 1],
    ]);
    expect(await tables()).toEqual(['accounts', 'invoices']);
  }, 240_000);

  it('changes the fingerprint when only the helper changes, and refuses the old one with nothing changed', async () => {
    await prepare();
    const before = await rollback({ mode: 'plan', all: 'true' });
    expect([before.code, before.errors]).toEqual([0, []]);

    const helper = path.join(workspace, 'services/api/lib/tables.ts');
    fs.appendFileSync(helper, "export const ARCHIVE_SUFFIX = '_archive';\n");
    const after = await rollback({ mode: 'plan', all: 'true' });
    expect([after.code, after.errors]).toEqual([0, []]);
    expect(after.outputs.plan).toBe(before.outputs.plan);
    expect(after.outputs['plan-fingerprint']).not.toBe(before.outputs['plan-fingerprint']);

    const refused = await rollback({
      mode: 'rollback',
      all: 'true',
      'expected-plan': before.outputs['plan-fingerprint'],
      'allow-destructive': 'true',
    });
    expect(refused.code).toBe(1);
    expect(refused.errors.join('\n')).toMatch(
      /Input "expected-plan" is .* a migration file changed .*, a local file they load changed \(lib\/tables\.ts\), or Knex \(now \d+\.\d+\.\d+\) or db-rollback-actions \(now \d+\.\d+\.\d+\) is another version.*Nothing was changed/,
    );
    expect(JSON.parse(refused.outputs['rolled-back'])).toEqual([]);
    expect(await migrationRows()).toHaveLength(3);
    expect(await tables()).toEqual(['accounts', 'invoice_notes', 'invoices']);
  }, 240_000);

  it("reads a CommonJS .js knexfile's loadExtensions and disableTransactions through the rollback bundle", async () => {
    await prepare();
    const api = path.join(workspace, 'services/api');
    // Not a migration: without loadExtensions ['.ts'] it would be listed (and fail to load).
    fs.writeFileSync(path.join(api, 'db/core/20240104000000_notes.js'), "module.exports = 'a data file';\n");
    fs.writeFileSync(
      path.join(api, 'knexfile.js'),
      `module.exports = { production: { client: 'pg', connection: { host: process.env.DB_HOST },
         migrations: { directory: ['./db/core', './db/billing'], tableName: 'schema_migrations',
           loadExtensions: ['.ts'], disableTransactions: true } } };\n`,
    );
    const settings = { knexfile: 'knexfile.js' };
    const status = await rollback({ ...settings, mode: 'status' });
    expect([status.code, status.errors]).toEqual([0, []]);
    expect(JSON.parse(status.outputs.applied)).toEqual(ALL);
    expect(JSON.parse(status.outputs.pending)).toEqual([]);
    expect(status.summary).toMatch(/\| loadExtensions \| `\.ts` \| knexfile knexfile\.js \(production\) \|/);
    expect(status.summary).toMatch(/\| disableTransactions \| `true` \| knexfile knexfile\.js \(production\) \|/);

    // disableTransactions: a migration that does not set config.transaction runs outside the rollback's transaction.
    const plan = await rollback({ ...settings, mode: 'plan', steps: '1' });
    expect([plan.code, plan.errors]).toEqual([0, []]);
    expect(JSON.parse(plan.outputs.plan)).toEqual([{ name: ALL[2], batch: 2, transaction: false }]);
    const refused = await rollback({ ...settings, mode: 'rollback', steps: '1', 'allow-destructive': 'true' });
    expect(refused.code).toBe(1);
    expect(refused.errors.join('\n')).toMatch(/opts out of transactions .* set allow-non-atomic: true/);
    expect(await migrationRows()).toHaveLength(3);
  }, 180_000);

  it("covers an ES-module .mjs migration's local helper: the fingerprint changes when only the helper changes", async () => {
    const api = path.join(workspace, 'services/api');
    const added = '20240104000000_add_audit_log.mjs';
    fs.writeFileSync(path.join(api, 'lib/audit.mjs'), "export const AUDIT_TABLE = 'audit_log';\n");
    fs.writeFileSync(
      path.join(api, 'db/core', added),
      `import { AUDIT_TABLE } from '../../lib/audit.mjs';
       export const up = (knex) => knex.schema.createTable(AUDIT_TABLE, (table) => table.increments('id'));
       export const down = (knex) => knex.schema.dropTable(AUDIT_TABLE);\n`,
    );
    await prepare([...ALL, added]);

    const before = await rollback({ mode: 'plan', steps: '1' });
    expect([before.code, before.errors]).toEqual([0, []]);
    expect((JSON.parse(before.outputs.plan) as Array<{ name: string }>).map((step) => step.name)).toEqual([added]);
    expect(before.summary).toContain('the local code they load: `lib/audit.mjs`');

    fs.writeFileSync(path.join(api, 'lib/audit.mjs'), "export const AUDIT_TABLE = 'audit_events';\n");
    const after = await rollback({ mode: 'plan', steps: '1' });
    expect([after.code, after.errors]).toEqual([0, []]);
    expect(after.outputs.plan).toBe(before.outputs.plan);
    expect(after.outputs['plan-fingerprint']).not.toBe(before.outputs['plan-fingerprint']);
  }, 180_000);

  it('resolves knexfile and migrations-dir against working-directory and names a wrong one', async () => {
    const wrong = await rollback({ mode: 'status', 'working-directory': 'services/nope' });
    expect(wrong.code).toBe(1);
    expect(wrong.errors.join('\n')).toMatch(
      /Input "working-directory" is "services\/nope", but .*services\/nope is not a directory/,
    );
    await prepare();
    // migrations-dir overrides the knexfile's directories, relative to the service, not the repository.
    const onlyCore = await rollback({ mode: 'status', 'migrations-dir': 'db/core' });
    expect([onlyCore.code, onlyCore.errors]).toEqual([0, []]);
    expect(onlyCore.summary).toMatch(/\| directory \| `db\/core` \| input migrations-dir \|/);
    expect(onlyCore.stdout).toContain(`${ALL[1]} is applied but its file is missing`);
  }, 180_000);

  it('verify-reversible checks it from the same knexfile: both directories, schema_migrations, the service dependency', async () => {
    const run = await runBundle('verify-reversible', {
      cwd: workspace,
      inputs: { ...actionDefaults('verify-reversible'), ...SERVICE, 'database-url': database.url },
    });
    expect([run.code, run.errors]).toEqual([0, []]);
    expect(run.outputs.checked).toBe('3');
    expect(JSON.parse(run.outputs.irreversible)).toEqual([]);
    for (const name of ALL) expect(run.stdout).toContain(`${name}: exact`);
    expect(run.summary).toMatch(/\| tableName \| `schema_migrations` \| knexfile knexfile\.ts \(production\) \|/);
    // The check's bookkeeping table is the knexfile's: no knex_migrations appears in what it compared.
    expect(run.everything).not.toMatch(/knex_migrations/);
  }, 180_000);

  it("verify-reversible keeps Knex's table in the knexfile's schemaName and compares public, where the tables are", async () => {
    // A knexfile whose migrations.schemaName is knex_meta; its 002 down() drops a NOT NULL it did not add.
    const migrations = path.join(repoRoot, 'test/fixtures/reversibility/meta-schema/migrations');
    fs.writeFileSync(
      path.join(workspace, 'services/api/knexfile.meta.cjs'),
      `module.exports = { production: { migrations: { directory: ${JSON.stringify(migrations)}, schemaName: 'knex_meta' } } };\n`,
    );
    const run = await runBundle('verify-reversible', {
      cwd: workspace,
      inputs: {
        ...actionDefaults('verify-reversible'),
        'working-directory': 'services/api',
        knexfile: 'knexfile.meta.cjs',
        'database-url': database.url,
      },
    });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.outputs.irreversible)).toEqual([
      {
        name: '002_forgets_not_null.ts',
        reason: 'down() did not restore the schema: column accounts.email: NOT NULL lost',
        left: [],
        lost: ['column accounts.email: NOT NULL'],
      },
    ]);
    expect(run.summary).toContain('comparing schema `public`');
    expect(run.summary).toMatch(/\| schemaName \| `knex_meta` \| knexfile knexfile\.meta\.cjs \(production\) \|/);
  }, 180_000);
});
