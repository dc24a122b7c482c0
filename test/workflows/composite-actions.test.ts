import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { node24, repoRoot } from '../helpers/run-bundle.js';

/**
 * Runs a composite action's script the way the runner does: bash, the inputs only in env (the
 * action passes them there), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, Node 24 first on PATH.
 */
function runComposite(action: string, env: Record<string, string>, cwd?: string) {
  const doc = YAML.parse(fs.readFileSync(path.join(repoRoot, 'actions', action, 'action.yml'), 'utf8')) as {
    runs: { steps: Array<{ run: string; env: Record<string, string> }> };
  };
  const step = doc.runs.steps[0];
  // Every env value the action declares is an ${{ inputs.x }}: map each to the value the test gives.
  const declared = Object.keys(step.env);
  for (const key of Object.keys(env))
    if (!declared.includes(key) && key !== 'PATH') throw new Error(`${action} does not read ${key}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `composite-${action}-`));
  const output = path.join(work, 'output');
  const summary = path.join(work, 'summary');
  fs.writeFileSync(output, '');
  fs.writeFileSync(summary, '');
  const result = spawnSync('bash', ['-e', '-c', step.run], {
    cwd: cwd ?? work,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      PATH: `${path.dirname(node24)}:${path.join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH}`,
      HOME: os.homedir(),
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      ...env,
    },
  });
  const outputs = Object.fromEntries(
    fs
      .readFileSync(output, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const text = {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    outputs,
    summary: fs.readFileSync(summary, 'utf8'),
  };
  fs.rmSync(work, { recursive: true, force: true });
  return text;
}

describe('verify-still-rolled-back', () => {
  it('passes when none of the undone migrations is applied again', () => {
    const run = runComposite('verify-still-rolled-back', {
      ROLLED_BACK: '["007_a.ts","006_b.ts"]',
      APPLIED: '["001_x.ts","005_y.ts"]',
    });
    expect(run.code).toBe(0);
    expect(run.outputs.reapplied).toBe('[]');
    expect(run.summary).toContain('Still rolled back after the restart');
  });

  it('fails, naming them, when a restart re-applied undone migrations', () => {
    const run = runComposite('verify-still-rolled-back', {
      ROLLED_BACK: '["007_a.ts","006_b.ts"]',
      APPLIED: '["001_x.ts","006_b.ts","007_a.ts"]',
    });
    expect(run.code).toBe(1);
    expect(run.outputs.reapplied).toBe('["007_a.ts","006_b.ts"]');
    expect(run.stdout).toMatch(
      /::error::The rollback was undone after the restart: 007_a.ts, 006_b.ts are applied again.*migrate:latest/,
    );
  });

  it('fails on an input that is not a JSON array, and treats input text as data', () => {
    const run = runComposite('verify-still-rolled-back', {
      ROLLED_BACK: '$(touch /tmp/pwned-by-rollback) `id`',
      APPLIED: '[]',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::rolled-back is not a JSON array/);
    expect(fs.existsSync('/tmp/pwned-by-rollback')).toBe(false);
  });
});

describe('prepare-scratch-database on a real PostgreSQL with the ticket-service project', () => {
  let project: string;
  let database: TestDatabase;
  const all = fs.readdirSync(path.join(repoRoot, 'test/fixtures/ticket-service/migrations')).sort();
  beforeAll(() => {
    // A caller's checkout: the project and its installed dependencies (knex, pg, ts-node for knexfile.ts).
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'scratch-project-'));
    fs.cpSync(path.join(repoRoot, 'test/fixtures/ticket-service'), project, { recursive: true });
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(project, 'node_modules'));
  });
  afterAll(() => {
    fs.rmSync(project, { recursive: true, force: true });
  });
  beforeEach(async () => {
    database = await createDatabase('scratch');
  });
  afterEach(async () => {
    await database.drop();
  });

  it('migrates to the full applied list and gives the planned rows their production batches', async () => {
    const plan = [
      { name: '007_add_security_tables.ts', batch: 2, transaction: true },
      { name: '006_add_ticket_state_machine.ts', batch: 2, transaction: true },
    ];
    const run = runComposite(
      'prepare-scratch-database',
      {
        DATABASE_URL: database.url,
        APPLIED: JSON.stringify(all),
        PENDING: '[]',
        PLAN: JSON.stringify(plan),
        KNEXFILE: 'knexfile.ts',
        KNEX_ENVIRONMENT: 'production',
        MIGRATIONS_DIR: '',
        MIGRATIONS_TABLE: 'knex_migrations',
      },
      project,
    );
    expect([run.code, run.stderr.slice(-2000)]).toEqual([0, expect.anything()]);
    expect(JSON.parse(run.outputs.applied)).toEqual(all);
    const rows = await database.query<{ name: string; batch: number }>(
      'SELECT name, batch FROM knex_migrations ORDER BY id',
    );
    expect(rows.map((row) => [row.name, row.batch])).toEqual(
      all.map((name) => [name, name.startsWith('006') || name.startsWith('007') ? 2 : 1]),
    );
    expect(await database.query("SELECT 1 FROM pg_tables WHERE tablename = 'failed_login_attempts'")).toHaveLength(1);
  }, 180_000);

  it('applies only what production applied when some migrations are pending there', async () => {
    // One knex CLI call per migration: two keep the test short.
    const applied = all.slice(0, 2);
    const run = runComposite(
      'prepare-scratch-database',
      {
        DATABASE_URL: database.url,
        APPLIED: JSON.stringify(applied),
        PENDING: JSON.stringify(all.slice(2)),
        PLAN: JSON.stringify([{ name: applied[1], batch: 3 }]),
        KNEXFILE: 'knexfile.ts',
        KNEX_ENVIRONMENT: 'production',
        MIGRATIONS_DIR: '',
        MIGRATIONS_TABLE: 'knex_migrations',
      },
      project,
    );
    expect([run.code, run.stderr.slice(-2000)]).toEqual([0, expect.anything()]);
    const rows = await database.query<{ name: string; batch: number }>(
      'SELECT name, batch FROM knex_migrations ORDER BY id',
    );
    expect(rows.map((row) => row.name)).toEqual(applied);
    expect(rows.at(-1)?.batch).toBe(3);
    expect(Math.max(...rows.slice(0, -1).map((row) => row.batch))).toBeLessThan(3);
  }, 300_000);
});
