import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { adminQuery, adminUrl } from '../helpers/database.js';
import { repoRoot, runBundle } from '../helpers/run-bundle.js';
import { ticketServiceMigrations } from '../helpers/ticket-service.js';

// The action as the runner runs it: dist/verify-reversible on Node 24, so TypeScript
// migrations go through the real loader (not ts-jest).

const fixtures = path.join(repoRoot, 'test/fixtures/reversibility');

/** The scratch databases a run announced in its log (other test files may be running checks of their own). */
function announced(stdout: string): string[] {
  return [...new Set(stdout.match(/verify_reversible_[0-9a-f]+/g) ?? [])];
}

/** What a user sees: the runner consumes ::add-mask:: lines, which necessarily carry the secret. */
function visible(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
}

async function stillThere(names: string[]): Promise<string[]> {
  const { rows } = await adminQuery('SELECT datname FROM pg_database WHERE datname = ANY($1)', [names]);
  return rows.map((row) => String(row.datname));
}

describe('the verify-reversible action (bundle)', () => {
  it('finds exactly the ticket service’s gaps: 001 leaves pgcrypto installed, 004 leaves row-level security enabled', async () => {
    const runnerTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-reversible-'));
    const run = await runBundle('verify-reversible', {
      inputs: { 'database-url': adminUrl(), 'migrations-dir': ticketServiceMigrations },
      env: { RUNNER_TEMP: runnerTemp },
    });
    expect(run.code).toBe(1);
    expect(run.outputs.checked).toBe('7');
    expect(run.outputs.warnings).toBe('[]');
    expect(run.outputs.report).toBe(path.join(runnerTemp, 'verify-reversible-report.json'));
    expect(JSON.parse(run.outputs.irreversible)).toEqual([
      {
        name: '001_create_tickets.ts',
        reason: 'down() did not restore the schema: extension pgcrypto left behind',
        left: ['extension pgcrypto'],
        lost: [],
      },
      {
        name: '004_add_rls_role_verification.ts',
        reason:
          'down() did not restore the schema: table ticket_scans: ROW LEVEL SECURITY left behind; table tickets: ROW LEVEL SECURITY left behind',
        left: ['table ticket_scans: ROW LEVEL SECURITY', 'table tickets: ROW LEVEL SECURITY'],
        lost: [],
      },
    ]);
    const report = JSON.parse(fs.readFileSync(run.outputs.report, 'utf8')) as { exact: string[] };
    expect(report.exact).toEqual([
      '002_add_ticket_scans.ts',
      '003_add_blockchain_tracking.ts',
      '005_add_idempotency_keys.ts',
      '006_add_ticket_state_machine.ts',
      '007_add_security_tables.ts',
    ]);
    expect(run.summary).toContain('| table tickets: ROW LEVEL SECURITY | left behind |');
    expect(run.summary).toContain('| `007_add_security_tables.ts` | exact |');
    expect(run.errors.join('\n')).toContain(
      '2 of 7 migration(s) cannot be rolled back cleanly: 001_create_tickets.ts, 004_add_rls_role_verification.ts',
    );
    // The server as host:port/database only: never its user-info or password.
    const server = new URL(adminUrl());
    expect(run.summary).toContain(`Server: \`${server.hostname}:${server.port}${server.pathname}\``);
    expect(server.password).not.toBe('');
    expect(visible(run.everything)).not.toContain(decodeURIComponent(server.password));
    expect(run.summary).not.toContain(`${decodeURIComponent(server.username)}:`);
    fs.rmSync(runnerTemp, { recursive: true, force: true });
    expect(announced(run.stdout).length).toBe(3); // the first, and the rebuilds after 001 and 004
    expect(await stillThere(announced(run.stdout))).toEqual([]);
  });

  it('passes a corpus whose down()s are exact, loading TypeScript through the real loader', async () => {
    const run = await runBundle('verify-reversible', {
      inputs: { 'database-url': adminUrl(), 'migrations-dir': path.join(fixtures, 'exact/migrations') },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ checked: '10', irreversible: '[]' });
  });

  it('with fail-on: error, warns about a difference and fails only on a step that throws', async () => {
    const faults = path.join(fixtures, 'faults/migrations');
    const differenceOnly = await runBundle('verify-reversible', {
      inputs: {
        'database-url': adminUrl(),
        'migrations-dir': faults,
        only: '004_forgets_not_null.ts',
        'fail-on': 'error',
      },
    });
    expect(differenceOnly.code).toBe(0);
    expect(differenceOnly.stdout).toContain('::warning title=Migration not reversible,file=');
    expect(JSON.parse(differenceOnly.outputs.irreversible)).toEqual([
      {
        name: '004_forgets_not_null.ts',
        reason: 'down() did not restore the schema: column tickets.priority: NOT NULL lost',
        left: [],
        lost: ['column tickets.priority: NOT NULL'],
      },
    ]);
    const throwing = await runBundle('verify-reversible', {
      inputs: {
        'database-url': adminUrl(),
        'migrations-dir': faults,
        only: '004_forgets_not_null.ts\n006_throwing_down.ts',
        'fail-on': 'error',
      },
    });
    expect(throwing.code).toBe(1);
    expect(throwing.errors.at(-1)).toContain('1 of 2 migration(s) cannot be rolled back cleanly: 006_throwing_down.ts');
  });

  describe('warnings about data', () => {
    const planted = path.join(fixtures, 'planted/migrations');
    const only = [
      '004_deletes_older_rows.ts',
      '005_updates_older_rows.ts',
      '006_lookup_value.ts',
      '007_own_table_with_rows.ts',
      '009_query_not_awaited.ts',
    ].join('\n');
    const expected = [
      {
        name: '004_deletes_older_rows.ts',
        reason: 'down() deletes rows from saved_queries_versions (a table older than this migration)',
        left: [],
        lost: [],
      },
      {
        name: '005_updates_older_rows.ts',
        reason: 'down() updates rows of saved_queries_versions (a table older than this migration)',
        left: [],
        lost: [],
      },
      {
        name: '009_query_not_awaited.ts',
        reason: 'down() returned before its query finished (a missing await?): SELECT count(*) FROM statuses',
        left: [],
        lost: [],
      },
    ];

    it('are reported, annotated on the migration file, and do not fail the step by default', async () => {
      const run = await runBundle('verify-reversible', {
        inputs: { 'database-url': adminUrl(), 'migrations-dir': planted, only },
        cwd: repoRoot,
      });
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      expect(run.outputs).toMatchObject({ checked: '5', irreversible: '[]' });
      expect(JSON.parse(run.outputs.warnings)).toEqual(expected);
      expect(run.stdout).toContain(
        '::warning title=down() and the data,file=test/fixtures/reversibility/planted/migrations/004_deletes_older_rows.ts::' +
          '004_deletes_older_rows.ts: down() deletes rows from saved_queries_versions (a table older than this migration)',
      );
      expect(run.summary).toContain('| `004_deletes_older_rows.ts` | exact · ⚠️ 1 warning(s) |');
      expect(run.summary).toContain(
        '- ⚠️ down() deletes rows from saved_queries_versions (a table older than this migration)',
      );
      expect(run.stdout).toContain('apart from 3 migration(s) with warnings (fail-on: difference)');
    });

    it('fail the step with fail-on: warning', async () => {
      const run = await runBundle('verify-reversible', {
        inputs: { 'database-url': adminUrl(), 'migrations-dir': planted, only, 'fail-on': 'warning' },
      });
      expect(run.code).toBe(1);
      expect(JSON.parse(run.outputs.warnings)).toEqual(expected);
      expect(run.errors.at(-1)).toContain(
        '3 of 5 migration(s) cannot be rolled back cleanly: 004_deletes_older_rows.ts, 005_updates_older_rows.ts, 009_query_not_awaited.ts',
      );
      expect(run.stdout).toContain('::error title=down() and the data,file=');
    });

    it('refuses an unknown fail-on, naming the allowed values', async () => {
      const run = await runBundle('verify-reversible', {
        inputs: { 'database-url': adminUrl(), 'migrations-dir': planted, 'fail-on': 'warnings' },
      });
      expect(run.code).toBe(1);
      expect(run.errors).toEqual(['Input "fail-on" is "warnings". Valid values are: [error, difference, warning].']);
    });
  });

  it('drops its scratch database when killed with SIGTERM mid-check', async () => {
    let child: ChildProcess | undefined;
    const running = runBundle('verify-reversible', {
      inputs: { 'database-url': adminUrl(), 'migrations-dir': path.join(fixtures, 'slow/migrations') },
      onSpawn: (spawned) => (child = spawned),
    });
    // Wait until the slow up() is running on a scratch database.
    let seen: string[] = [];
    for (let attempt = 0; attempt < 200 && seen.length === 0; attempt++) {
      const { rows } = await adminQuery(
        "SELECT datname FROM pg_stat_activity WHERE datname LIKE 'verify\\_reversible\\_%' AND query LIKE '%pg_sleep%'",
      );
      seen = rows.map((row) => String(row.datname));
      if (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen).toHaveLength(1);
    child!.kill('SIGTERM');
    const run = await running;
    expect(run.code).toBe(143);
    expect(run.stdout).toContain('Received SIGTERM: starting no more checks, dropping the scratch database(s)');
    const { rows } = await adminQuery('SELECT datname FROM pg_database WHERE datname = $1', [seen[0]]);
    expect(rows).toEqual([]);
  });

  describe('refuses bad input before writing anything', () => {
    it('without database-url', async () => {
      const run = await runBundle('verify-reversible', { inputs: { 'migrations-dir': ticketServiceMigrations } });
      expect(run.code).toBe(1);
      expect(run.errors).toEqual(['Input "database-url" is required and was not given.']);
      expect(run.outputs).toMatchObject({ checked: '0', irreversible: '[]' });
      expect(run.outputs.report).toMatch(/verify-reversible-report\.json$/);
    });

    it('with a missing migrations-dir', async () => {
      const run = await runBundle('verify-reversible', {
        inputs: { 'database-url': adminUrl(), 'migrations-dir': 'db/migrations' },
      });
      expect(run.code).toBe(1);
      expect(run.errors[0]).toMatch(
        /^Input "migrations-dir" is "db\/migrations", but .*db\/migrations is not a directory/,
      );
    });

    it('with an unknown name in only', async () => {
      const run = await runBundle('verify-reversible', {
        inputs: {
          'database-url': adminUrl(),
          'migrations-dir': ticketServiceMigrations,
          only: '004_add_rls_role_verification.ts\n008_missing.ts',
        },
      });
      expect(run.code).toBe(1);
      expect(run.errors[0]).toContain(
        'Input "only" names "008_missing.ts", which is not a migration in the migrations directory. Valid values are: [001_create_tickets.ts',
      );
      expect(announced(run.stdout)).toEqual([]);
    });

    it('on a server where the role cannot create databases, naming the privilege', async () => {
      const role = `vr_nocreatedb_${crypto.randomBytes(3).toString('hex')}`;
      const password = `pw-${crypto.randomBytes(6).toString('hex')}`;
      await adminQuery(`CREATE ROLE ${role} LOGIN NOCREATEDB PASSWORD '${password}'`);
      try {
        const url = new URL(adminUrl());
        url.username = role;
        url.password = password;
        const run = await runBundle('verify-reversible', {
          inputs: { 'database-url': url.toString(), 'migrations-dir': ticketServiceMigrations },
        });
        expect(run.code).toBe(1);
        expect(run.errors[0]).toContain(`The role "${role}" cannot create databases`);
        expect(run.errors[0]).toContain('needs the CREATEDB privilege');
        expect(run.errors[0]).toContain(`ALTER ROLE "${role}" CREATEDB`);
        expect(visible(run.everything)).not.toContain(password);
      } finally {
        await adminQuery(`DROP ROLE ${role}`);
      }
    });
  });
});
