import crypto from 'node:crypto';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { adminQuery, adminUrl } from '../helpers/database.js';
import { repoRoot, runBundle, type BundleRun } from '../helpers/run-bundle.js';

// A cancelled run as the runner cancels it: the bundle gets SIGINT or SIGTERM at a point of
// the check, and afterwards pg_database holds no database it created. The bundle connects as a
// role of its own, so "its databases" are exactly those that role owns, whatever other test
// files run at the same time.

const slowDown = path.join(repoRoot, 'test/fixtures/reversibility/slow-down/migrations');

let role: string;
let url: string;

beforeAll(async () => {
  role = `vr_cancel_${crypto.randomBytes(3).toString('hex')}`;
  const password = `pw-${crypto.randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE ROLE ${role} LOGIN CREATEDB PASSWORD '${password}'`);
  const parsed = new URL(adminUrl());
  parsed.username = role;
  parsed.password = password;
  url = parsed.toString();
});

afterAll(async () => {
  for (const name of await ownedDatabases()) await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await adminQuery(`DROP ROLE IF EXISTS ${role}`);
});

async function ownedDatabases(): Promise<string[]> {
  const { rows } = await adminQuery(
    'SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY datname',
    [role],
  );
  return rows.map((row) => String(row.datname));
}

/** What this role's sessions are doing now. */
async function activity(): Promise<{ query: string; waiting: boolean }[]> {
  const { rows } = await adminQuery(
    "SELECT query, wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE usename = $1",
    [role],
  );
  return rows as { query: string; waiting: boolean }[];
}

async function until(what: string, ready: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts the bundle, waits for `point`, sends `signal`, and returns the finished run. */
async function cancelAt(signal: NodeJS.Signals, point: (stdout: () => string) => Promise<void>): Promise<BundleRun> {
  let child: ChildProcess | undefined;
  let stdout = '';
  const running = runBundle('verify-reversible', {
    inputs: { 'database-url': url, 'migrations-dir': slowDown },
    onSpawn: (spawned) => {
      child = spawned;
      spawned.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    },
  });
  await point(() => stdout);
  child!.kill(signal);
  return running;
}

describe.each(['SIGINT', 'SIGTERM'] as const)('on %s, the bundle leaves no scratch database', (signal) => {
  const code = signal === 'SIGINT' ? 130 : 143;

  it('during a slow down()', async () => {
    const run = await cancelAt(signal, () =>
      until('the slow down()', async () => (await activity()).some((each) => each.query.includes('pg_sleep(60)'))),
    );
    expect(run.code).toBe(code);
    expect(run.stdout).toContain(`Received ${signal}: starting no more checks, dropping the scratch database(s)`);
    expect(run.stdout).not.toContain('003_table.ts');
    expect(await ownedDatabases()).toEqual([]);
  });

  it('between checks', async () => {
    const run = await cancelAt(signal, (stdout) =>
      until('the first check to finish', () => Promise.resolve(stdout().includes('001_table.ts: exact'))),
    );
    expect(run.code).toBe(code);
    expect(await ownedDatabases()).toEqual([]);
  });

  it('while CREATE DATABASE waits', async () => {
    // CREATE DATABASE takes a share lock on its template; holding a conflicting one keeps it waiting.
    const holder = new pg.Client({ connectionString: adminUrl() });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query("COMMENT ON DATABASE template1 IS 'held by cancel-bundle.test.ts'");
      const run = await cancelAt(signal, () =>
        until('CREATE DATABASE to wait', async () =>
          (await activity()).some((each) => each.waiting && each.query.startsWith('CREATE DATABASE')),
        ),
      );
      expect(run.code).toBe(code);
      expect(run.stdout).not.toContain('created; checking');
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    // Released: a CREATE still queued would complete now, so wait until none of the role's sessions is left.
    await until('the role to have no session', async () => (await activity()).length === 0);
    expect(await ownedDatabases()).toEqual([]);
  });
});
