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
    // As envalid's num() and bool() do: typed values no placeholder can give, set by knexfile-env.
    fs.writeFileSync(
      path.join(project, 'typed-knexfile.cjs'),
      `const max = Number(process.env.DB_POOL_MAX);
       if (!Number.isInteger(max)) throw new Error('DB_POOL_MAX must be an integer');
       if (!['true', 'false'].includes(process.env.DB_SSL)) throw new Error('DB_SSL must be true or false');
       if (!process.env.DB_APP_KEY) throw new Error('DB_APP_KEY is not set');
       if (!process.env.DB_HOST) throw new Error('DB_HOST is not set');
       module.exports = { production: { client: 'pg', pool: { max }, connection: { ssl: process.env.DB_SSL === 'true', host: process.env.DB_HOST },
         migrations: { directory: './migrations', loadExtensions: ['.ts'] } } };`,
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

  const typedEnv = 'DB_POOL_MAX=10\n# typed values no placeholder passes\nDB_SSL=false\nDB_APP_KEY=kx9-app-key-4410';

  /** What a reader could see: the ::add-mask:: commands are the runner's, consumed and never shown. */
  const shown = (run: BundleRun) =>
    run.everything
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n');

  it('rollback: a knexfile that validates typed values fails without knexfile-env and plans with it', async () => {
    const without = await runBundle('rollback', {
      cwd: project,
      inputs: { 'database-url': db.url, mode: 'plan', steps: '1', knexfile: 'typed-knexfile.cjs' },
    });
    expect(without.code).toBe(1);
    expect(without.errors).toEqual([
      expect.stringMatching(
        /typed-knexfile.cjs could not be loaded: DB_POOL_MAX must be an integer\. Give the variables it validates in knexfile-env/,
      ),
    ]);

    const run = await runBundle('rollback', {
      cwd: project,
      inputs: {
        'database-url': db.url,
        mode: 'plan',
        steps: '1',
        knexfile: 'typed-knexfile.cjs',
        'knexfile-env': typedEnv,
      },
    });
    expect([run.code, run.errors]).toEqual([0, []]);
    expect((JSON.parse(run.outputs.plan) as Array<{ name: string }>).map((step) => step.name)).toEqual([
      '007_add_security_tables.ts',
      '006_add_ticket_state_machine.ts',
    ]);
    expect(run.summary).toContain(
      '| unset environment variables | `DB_POOL_MAX, DB_SSL, DB_APP_KEY` | input knexfile-env, set only while knexfile typed-knexfile.cjs (production) loaded |',
    );
    // DB_HOST was not given: the retry, with knexfile-env's values still set, answered it with a placeholder.
    expect(run.summary).toMatch(
      /\| unset environment variables \| `DB_HOST` \| knexfile typed-knexfile.cjs \(production\) threw without them/,
    );
    // Masked before anything else is written; numbers and booleans are not masked (see knexfileEnvSecrets).
    const lines = run.stdout.split('\n');
    const firstShown = lines.findIndex((line) => !line.startsWith('::add-mask::'));
    expect(lines.slice(0, firstShown)).toContain('::add-mask::kx9-app-key-4410');
    expect(shown(run)).not.toContain('kx9-app-key-4410');
    expect(run.everything).not.toMatch(/DB_\w+=/);
  });

  it('rollback: a line of knexfile-env that is not NAME=value is refused by its number, quoting nothing of it', async () => {
    const run = await runBundle('rollback', {
      cwd: project,
      inputs: {
        'database-url': db.url,
        mode: 'plan',
        knexfile: 'typed-knexfile.cjs',
        'knexfile-env': 'DB_POOL_MAX=10\nDB_SSL: kx9-app-key-4410',
      },
    });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      'Input "knexfile-env" line 2 is not NAME=value (no =). Write one variable a line, such as DB_POOL_MAX=10, where NAME is letters, digits and _ and does not start with a digit.',
    ]);
    expect(shown(run)).not.toContain('kx9-app-key-4410');
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
      const typed = await runBundle('prepare-scratch-database', {
        cwd: project,
        inputs: {
          ...actionDefaults('prepare-scratch-database'),
          'database-url': scratch.url,
          knexfile: 'typed-knexfile.cjs',
          'knexfile-env': typedEnv,
          applied: JSON.stringify(applied),
        },
      });
      expect([typed.code, typed.errors]).toEqual([0, []]);
      expect(typed.summary).toContain('`DB_POOL_MAX, DB_SSL, DB_APP_KEY` | input knexfile-env');
      expect(shown(typed)).not.toContain('kx9-app-key-4410');
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
    const typed = await runBundle('verify-reversible', {
      cwd: project,
      inputs: {
        ...actionDefaults('verify-reversible'),
        'database-url': db.url,
        knexfile: 'typed-knexfile.cjs',
        'knexfile-env': typedEnv,
        only: '002_add_ticket_scans.ts',
      },
    });
    expect(typed.errors).toEqual([]);
    expect(typed.outputs.checked).toBe('1');
    expect(typed.summary).toContain('`DB_POOL_MAX, DB_SSL, DB_APP_KEY` | input knexfile-env');
    expect(shown(typed)).not.toContain('kx9-app-key-4410');
  }, 300_000);
});
