import fs from 'node:fs';
import path from 'node:path';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { actionDefaults, runBundle, type BundleRun } from '../helpers/run-bundle.js';
import { migrateTicketService, ticketServiceDir } from '../helpers/ticket-service.js';
import { copyProject, faultsProject } from '../rollback/helpers.js';

// A knexfile that validates its connection settings while it loads, run where none of them is set
// (the bundles get no DB_* variables): rollback, prepare-scratch-database and verify-reversible
// share the loader, which loads it again with placeholders, since its connection is never used.
describe('a knexfile that needs environment variables the runner does not have', () => {
  let db: TestDatabase;
  let project: string;

  beforeAll(async () => {
    db = await createDatabase('knexfile_env');
    const knex = db.knex();
    await migrateTicketService(knex);
    await knex.destroy();
    project = copyProject(ticketServiceDir);
    // As envalid does: on a missing variable it prints the names and calls process.exit(1); a
    // malformed port throws. An ES module, so the retry must evaluate it afresh.
    fs.mkdirSync(path.join(project, 'config'));
    fs.writeFileSync(
      path.join(project, 'config', 'env.mjs'),
      `if (!process.env.DB_PASSWORD) { console.error('Missing environment variables: DB_PASSWORD'); process.exit(1); }
       if (!/^\\d+$/.test(process.env.DB_PORT ?? '')) throw new Error('DB_PORT must be a port number');
       if (!/^[a-z0-9-]+(\\.[a-z0-9-]+)+$/.test(process.env.DB_HOST ?? '')) throw new Error('DB_HOST must be a host name');
       export const env = { host: process.env.DB_HOST, port: Number(process.env.DB_PORT), password: process.env.DB_PASSWORD };`,
    );
    fs.writeFileSync(
      path.join(project, 'env-knexfile.mjs'),
      `import { env } from './config/env.mjs';
       export default { production: { client: 'pg', connection: env, migrations: { directory: './migrations', loadExtensions: ['.ts'] } } };`,
    );
    fs.writeFileSync(
      path.join(project, 'broken-knexfile.cjs'),
      `const settings = require('./config/no-such-settings.cjs');
       module.exports = { production: { client: 'pg', connection: { host: process.env.DB_HOST }, migrations: settings } };`,
    );
  });
  afterAll(async () => {
    await db.drop();
    fs.rmSync(project, { recursive: true, force: true });
  });

  const placeholderRow = (names: string) =>
    `| unset environment variables | \`${names}\` | knexfile env-knexfile.mjs (production) threw without them, so it was loaded with placeholders for them; its connection settings are never used |`;

  function expectNoPlaceholderValues(run: BundleRun): void {
    expect(run.everything).not.toContain('placeholder.invalid');
    expect(run.everything).not.toMatch(/DB_\w+=/);
  }

  it('rollback: status loads the throwing fixture and names the variable read as a placeholder', async () => {
    const run = await runBundle('rollback', {
      cwd: project,
      inputs: {
        'database-url': db.url,
        mode: 'status',
        knexfile: path.join(faultsProject, 'throwing-knexfile.cjs'),
        // Not the table the ticket service wrote: every fault migration is pending.
        'migrations-table': 'fault_migrations',
      },
    });
    expect([run.code, run.errors]).toEqual([0, []]);
    const faults = fs.readdirSync(path.join(faultsProject, 'migrations')).sort();
    expect(JSON.parse(run.outputs.pending)).toEqual(faults);
    expect(run.stdout).toContain('unset environment variables: TICKET_DB_HOST (knexfile ');
    expect(run.summary).toMatch(
      /\| unset environment variables \| `TICKET_DB_HOST` \| knexfile .*throwing-knexfile.cjs/,
    );
  });

  it('rollback: plans from an ES-module knexfile whose imported config exits or throws without its variables', async () => {
    const run = await runBundle('rollback', {
      cwd: project,
      inputs: { 'database-url': db.url, mode: 'plan', steps: '1', knexfile: 'env-knexfile.mjs' },
    });
    expect([run.code, run.errors]).toEqual([0, []]);
    const plan = JSON.parse(run.outputs.plan) as Array<{ name: string }>;
    expect(plan.map((migration) => migration.name)).toEqual([
      '007_add_security_tables.ts',
      '006_add_ticket_state_machine.ts',
    ]);
    expect(run.summary).toContain(placeholderRow('DB_PASSWORD, DB_PORT, DB_HOST'));
    expectNoPlaceholderValues(run);
  });

  it('rollback: a knexfile that throws for another reason still fails with the reason, nothing read or changed', async () => {
    const run = await runBundle('rollback', {
      cwd: project,
      inputs: { 'database-url': db.url, mode: 'rollback', knexfile: 'broken-knexfile.cjs' },
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^Input "knexfile": .*broken-knexfile.cjs could not be loaded: Cannot find module '.\/config\/no-such-settings.cjs'/,
    );
    expect(run.summary).not.toContain('unset environment variables');
    const rows = await db.query<{ count: string }>('SELECT count(*) FROM knex_migrations');
    expect(rows[0].count).toBe('7');
  });

  it('prepare-scratch-database and verify-reversible load the same knexfile', async () => {
    const scratch = await createDatabase('knexfile_env_scratch');
    try {
      const applied = fs.readdirSync(path.join(project, 'migrations')).sort().slice(0, 2);
      const prepared = await runBundle('prepare-scratch-database', {
        cwd: project,
        inputs: {
          ...actionDefaults('prepare-scratch-database'),
          'database-url': scratch.url,
          knexfile: 'env-knexfile.mjs',
          applied: JSON.stringify(applied),
        },
      });
      expect([prepared.code, prepared.errors]).toEqual([0, []]);
      expect(JSON.parse(prepared.outputs.applied)).toEqual(applied);
      expect(prepared.summary).toContain(placeholderRow('DB_PASSWORD, DB_PORT, DB_HOST'));
      expectNoPlaceholderValues(prepared);
    } finally {
      await scratch.drop();
    }
    const verified = await runBundle('verify-reversible', {
      cwd: project,
      inputs: {
        ...actionDefaults('verify-reversible'),
        'database-url': db.url,
        knexfile: 'env-knexfile.mjs',
        only: '002_add_ticket_scans.ts',
      },
    });
    expect(verified.errors).toEqual([]);
    expect(verified.outputs.checked).toBe('1');
    expect(verified.summary).toContain(placeholderRow('DB_PASSWORD, DB_PORT, DB_HOST'));
  }, 180_000);
});
