import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { actionDefaults, repoRoot, runBundle } from '../helpers/run-bundle.js';

// The ticket-service project: a knexfile.ts with `export default` and its connection from
// DATABASE_URL, which is not set here (the action connects to database-url only). No ts-node,
// no Knex CLI: the action loads the TypeScript itself, as the rollback action does.
describe('prepare-scratch-database on a real PostgreSQL with the ticket-service project', () => {
  let project: string;
  let database: TestDatabase;
  const all = fs.readdirSync(path.join(repoRoot, 'test/fixtures/ticket-service/migrations')).sort();
  beforeAll(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'scratch-project-'));
    fs.cpSync(path.join(repoRoot, 'test/fixtures/ticket-service'), project, { recursive: true });
  });
  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));
  beforeEach(async () => {
    database = await createDatabase('scratch');
  });
  afterEach(async () => {
    await database.drop();
  });

  const prepare = (inputs: Record<string, string>) =>
    runBundle('prepare-scratch-database', {
      cwd: project,
      inputs: {
        ...actionDefaults('prepare-scratch-database'),
        'database-url': database.url,
        knexfile: 'knexfile.ts',
        ...inputs,
      },
    });

  it('migrates to the full applied list and gives the planned rows their production batches', async () => {
    const plan = [
      { name: '007_add_security_tables.ts', batch: 2, transaction: true },
      { name: '006_add_ticket_state_machine.ts', batch: 2, transaction: true },
    ];
    const run = await prepare({ applied: JSON.stringify(all), plan: JSON.stringify(plan) });
    expect([run.code, run.errors]).toEqual([0, []]);
    expect(JSON.parse(run.outputs.applied)).toEqual(all);
    const rows = await database.query<{ name: string; batch: number }>(
      'SELECT name, batch FROM knex_migrations ORDER BY id',
    );
    expect(rows.map((row) => [row.name, row.batch])).toEqual(
      all.map((name) => [name, name.startsWith('006') || name.startsWith('007') ? 2 : 1]),
    );
    expect(await database.query("SELECT 1 FROM pg_tables WHERE tablename = 'failed_login_attempts'")).toHaveLength(1);
    const shown = run.everything
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n');
    expect(shown).not.toContain(new URL(database.url).password);
  }, 180_000);

  it('applies only what production applied, in the order production applied it', async () => {
    const applied = [all[0], all[2], all[1]];
    const run = await prepare({ applied: JSON.stringify(applied), plan: JSON.stringify([{ name: all[1], batch: 3 }]) });
    expect([run.code, run.errors]).toEqual([0, []]);
    const rows = await database.query<{ name: string; batch: number }>(
      'SELECT name, batch FROM knex_migrations ORDER BY id',
    );
    expect(rows.map((row) => row.name)).toEqual(applied);
    expect(rows.at(-1)?.batch).toBe(3);
    expect(Math.max(...rows.slice(0, -1).map((row) => row.batch))).toBeLessThan(3);
  }, 180_000);

  it('refuses an applied migration this checkout has no file for, and bad input, naming them, with nothing changed', async () => {
    const missing = await prepare({ applied: JSON.stringify([all[0], '999_from_another_branch.ts']) });
    expect(missing.code).toBe(1);
    expect(missing.errors.join('\n')).toMatch(
      /Production has applied 999_from_another_branch\.ts, but .* has no such file/,
    );
    const notJson = await prepare({ applied: '$(touch /tmp/pwned) not json' });
    expect(notJson.code).toBe(1);
    expect(notJson.errors.join('\n')).toMatch(/Input "applied" is not a JSON array/);
    expect(await database.query("SELECT 1 FROM pg_tables WHERE tablename = 'knex_migrations'")).toEqual([]);
  }, 120_000);
});
