import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { destroyingStatementsJson, readDestroyingStatements } from '../../src/preserve/estimate.js';
import type { PreservationReport } from '../../src/preserve/types.js';
import { adminQuery, createDatabase, type TestDatabase } from '../helpers/database.js';
import { repoRoot, runBundle } from '../helpers/run-bundle.js';
import { applyBatches, copyProject, failureOf, runRollback } from '../rollback/helpers.js';
import {
  checksum,
  preserveDir,
  preservingOptions,
  readmeIamReaderSql,
  readmeReaderSql,
  type ReaderNames,
} from './helpers.js';

// The pipeline's plan job: the dry run runs on a scratch database (production's schema, none of
// its data), so its own estimate of what preserve-data keeps is near zero. Mode estimate-data
// sizes the dry run's destroying statements on production, with the plan job's read-only user.
describe('mode estimate-data sizes a scratch dry run on production, read-only', () => {
  let scratch: TestDatabase;
  let production: TestDatabase;
  let readOnlyUrl: string;
  const role = `plan_reader_${crypto.randomBytes(3).toString('hex')}`;
  const password = `pw-${crypto.randomBytes(6).toString('hex')}`;
  let readerNames: ReaderNames;

  beforeAll(async () => {
    [scratch, production] = await Promise.all([createDatabase('estimate_scratch'), createDatabase('estimate_prod')]);
    // The tables' owner: the user the migrations run as.
    readerNames = { role, password, owner: new URL(production.url).username, migrationsTable: 'knex_migrations' };
    const onScratch = scratch.knex();
    await applyBatches(onScratch, [['001_base.js'], ['002_notes_and_audit.js']], preserveDir);
    await onScratch.destroy();
    // The plan job's credential, made as the README says (may read, may not write) before the
    // deploy that is rolled back: that deploy's tables (audit) are readable through the owner's
    // default privileges, not through a GRANT that came after them.
    const onProduction = production.knex();
    await applyBatches(onProduction, [['001_base.js']], preserveDir);
    for (const statement of readmeReaderSql(readerNames)) await production.query(statement);
    await applyBatches(onProduction, [['001_base.js', '002_notes_and_audit.js']], preserveDir);
    await onProduction.destroy();
    await production.query(`
      INSERT INTO tickets (title, source, note) SELECT 'web ' || i, 'web', 'a note of some length ' || i FROM generate_series(1, 20000) i;
      INSERT INTO tickets (title, source, note) SELECT 'import ' || i, 'import', 'imported ' || i FROM generate_series(1, 300) i;
      INSERT INTO audit (ticket_id, action) SELECT i, 'viewed' FROM generate_series(1, 5000) i;
      ANALYZE`);
    const url = new URL(production.url);
    url.username = role;
    url.password = password;
    readOnlyUrl = url.toString();
  });
  afterAll(async () => {
    await Promise.all([scratch.drop(), production.drop()]);
    await adminQuery(`DROP ROLE IF EXISTS ${role}`);
  });

  async function dryRunOnScratch(): Promise<PreservationReport> {
    const dry = await runRollback(preservingOptions(scratch.url, preserveDir, { mode: 'plan', dryRun: true }));
    return dry.preservation!.kept!;
  }

  it("plans on production as the README's read-only user, which can write nothing", async () => {
    const plan = await runRollback(preservingOptions(readOnlyUrl, preserveDir, { mode: 'plan' }));
    expect(plan.plan.map((migration) => migration.name)).toEqual(['002_notes_and_audit.js']);
    expect(plan.before?.lock).toMatchObject({ tableExists: true, isLocked: false });
    await expect(runRollback(preservingOptions(readOnlyUrl, preserveDir, { mode: 'rollback' }))).rejects.toThrow(
      /the session is read-only/,
    );
    expect(await production.query('SELECT name FROM knex_migrations ORDER BY id')).toHaveLength(2);
  });

  it('gives the IAM user of "Connecting to RDS" the same grants as the password user', () => {
    const grants = (sql: string[]) =>
      sql.filter((statement) => /^(GRANT|ALTER)/.test(statement) && !statement.includes('rds_iam'));
    expect(grants(readmeIamReaderSql(readerNames))).toEqual(grants(readmeReaderSql(readerNames)));
    expect(grants(readmeReaderSql(readerNames))).toEqual(
      expect.arrayContaining([`ALTER ROLE ${role} SET default_transaction_read_only = on`]),
    );
  });

  it("lists the dry run's destroying statements, and sizes them on production with the read-only user", async () => {
    const onScratch = await dryRunOnScratch();
    expect(onScratch.statements?.map((statement) => statement.sql)).toEqual([
      'delete from "tickets" where "source" = \'import\'',
      "DELETE FROM events WHERE label = 'feature'",
      'drop table "audit"',
      'alter table "tickets" drop column "note"',
    ]);
    expect(onScratch.statements?.every((statement) => statement.migration === '002_notes_and_audit.js')).toBe(true);
    // Scratch has no rows: its estimate says nothing about production's.
    expect(onScratch.estimatedBytes).toBeLessThan(64 * 1024);

    const before = await checksum(production, 'tickets', 'id');
    const estimate = await runRollback(
      preservingOptions(readOnlyUrl, preserveDir, {
        mode: 'estimate-data',
        destroyingStatements: onScratch.statements,
      }),
    );
    const kept = estimate.preservation!.kept!;
    expect(kept.estimatedFor).toBe(4);
    const bySource = Object.fromEntries(kept.copies.map((copy) => [`${copy.kind} ${copy.source}`, copy]));
    expect(bySource['drop-table public.audit'].rows).toBeGreaterThanOrEqual(4500);
    expect(bySource['drop-column public.tickets'].rows).toBeGreaterThanOrEqual(18000);
    expect(bySource['delete public.tickets'].rows).toBeGreaterThan(100);
    expect(bySource['delete public.tickets'].rows).toBeLessThan(2000);
    expect(kept.copies.every((copy) => copy.estimated && copy.copy === '')).toBe(true);
    expect(kept.estimatedBytes).toBeGreaterThan(100 * onScratch.estimatedBytes);
    expect(estimate.notes[0]).toMatch(
      /Estimated on this database, read-only: preserve-data would keep about [\d.]+ (kB|MB)/,
    );
    // Read-only, and nothing was changed.
    expect(await checksum(production, 'tickets', 'id')).toBe(before);
    expect(await production.query("SELECT 1 FROM pg_namespace WHERE nspname = 'rollback_preserved'")).toEqual([]);
  });

  it('fails over preserve-data-max, as the real run would be refused, naming both ways forward', async () => {
    const statements = (await dryRunOnScratch()).statements;
    const failure = await failureOf(
      runRollback(
        preservingOptions(readOnlyUrl, preserveDir, {
          mode: 'estimate-data',
          destroyingStatements: statements,
          preserve: { enabled: true, maxBytes: 64 * 1024, schema: 'rollback_preserved' },
        }),
      ),
    );
    expect(failure.message).toMatch(
      /^A real run would be refused: keeping what this rollback destroys needs an estimated [\d.]+ (kB|MB) on this database .* over preserve-data-max \(64 kB\)\. The largest parts: drop-column public\.tickets/,
    );
    expect(failure.message).toContain('raise preserve-data-max to at least');
    expect(failure.message).toContain('set preserve-data: false');
    expect(failure.result?.preservation?.kept?.copies.length).toBeGreaterThan(0);
  });

  it('names the grants it lacks when the read-only user may not read a table it sizes', async () => {
    const statements = (await dryRunOnScratch()).statements;
    const narrow = `${role}_narrow`;
    await production.query(`CREATE ROLE ${narrow} LOGIN PASSWORD '${password}'`);
    await production.query(`GRANT SELECT ON knex_migrations, knex_migrations_lock TO ${narrow}`);
    try {
      const url = new URL(readOnlyUrl);
      url.username = narrow;
      const failure = await failureOf(
        runRollback(
          preservingOptions(url.toString(), preserveDir, { mode: 'estimate-data', destroyingStatements: statements }),
        ),
      );
      expect(failure.message).toMatch(/^Estimating what preserve-data keeps needs SELECT on every table/);
      expect(failure.message).toContain('permission denied for table');
      expect(failure.message).toContain('Use it from your repository');
    } finally {
      await production.query(`REVOKE ALL ON knex_migrations, knex_migrations_lock FROM ${narrow}`);
      await adminQuery(`DROP ROLE IF EXISTS ${narrow}`);
    }
  });

  it('through the bundle: the dry run writes preserve-statements-file, estimate-data on production reads it', async () => {
    const project = copyProject(path.join(repoRoot, 'test/fixtures/preserve'));
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'estimate-runner-temp-'));
    try {
      const run = (url: string, inputs: Record<string, string>) =>
        runBundle('rollback', {
          inputs: { 'database-url': url, 'migrations-dir': 'migrations', ...inputs },
          cwd: project,
          env: { RUNNER_TEMP: temp },
        });
      const dry = await run(scratch.url, { mode: 'plan', 'dry-run': 'true', 'allow-destructive': 'true' });
      expect(dry.errors).toEqual([]);
      const file = dry.outputs['preserve-statements-file'];
      expect(path.dirname(file)).toBe(temp);
      expect(readDestroyingStatements(file, 'preserve-statements-file')).toHaveLength(4);

      const estimate = await run(readOnlyUrl, { mode: 'estimate-data', 'preserve-statements-file': file });
      expect(estimate.errors).toEqual([]);
      expect(estimate.summary).toMatch(
        /A real run would keep an estimated [\d.]+ (kB|MB) on this database, for the 4 destroying statement\(s\) of the dry run/,
      );
      expect(estimate.summary).toMatch(
        /mode `estimate-data` \(preserve-data up to 256 MB, preserve-statements-file: 4 destroying statement\(s\) of a dry run\)/,
      );
      expect(estimate.outputs['preserve-id']).toBe('');
      expect(estimate.outputs['preserve-statements-file']).toBe('');
      const preserved = JSON.parse(estimate.outputs.preserved) as {
        source: string;
        rows: number;
        estimated: boolean;
      }[];
      expect(preserved.find((copy) => copy.source === 'public.audit')?.rows).toBeGreaterThanOrEqual(4500);
      // ::add-mask:: is the runner's instruction to hide the value, consumed and never shown.
      const shown = estimate.everything
        .split('\n')
        .filter((line) => !line.startsWith('::add-mask::'))
        .join('\n');
      expect(shown).not.toContain(password);

      const over = await run(readOnlyUrl, {
        mode: 'estimate-data',
        'preserve-statements-file': file,
        'preserve-data-max': '10kB',
      });
      expect(over.code).not.toBe(0);
      expect(over.errors.join('\n')).toContain('A real run would be refused');
      expect(over.summary).toContain('**over the limit, a real run would be refused**');
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
      fs.rmSync(temp, { recursive: true, force: true });
    }
  });

  it('a rollback given the statements is refused over the limit before the first down, nothing run or locked', async () => {
    const statements = (await dryRunOnScratch()).statements;
    const before = await checksum(production, 'tickets', 'id');
    const failure = await failureOf(
      runRollback(
        preservingOptions(production.url, preserveDir, {
          destroyingStatements: statements,
          preserve: { enabled: true, maxBytes: 64 * 1024, schema: 'rollback_preserved' },
        }),
      ),
    );
    expect(failure.message).toMatch(
      /^Refused before the first down ran or locked anything: keeping what this rollback destroys needs an estimated/,
    );
    expect(failure.result?.statements).toEqual([]);
    expect(failure.result?.rolledBack).toEqual([]);
    expect(await checksum(production, 'tickets', 'id')).toBe(before);
    expect(await production.query('SELECT name FROM knex_migrations ORDER BY id')).toHaveLength(2);
  });

  // Last: it rolls production back.
  it("is the real run's estimate: the copies the rollback then makes are of that size", async () => {
    const statements = (await dryRunOnScratch()).statements;
    const estimate = await runRollback(
      preservingOptions(readOnlyUrl, preserveDir, { mode: 'estimate-data', destroyingStatements: statements }),
    );
    const estimated = estimate.preservation!.kept!.estimatedBytes;
    const rollback = await runRollback(
      preservingOptions(production.url, preserveDir, { destroyingStatements: statements }),
    );
    expect(rollback.notes).toContainEqual(
      expect.stringMatching(
        /^Before the first down: the dry run's 4 destroying statement\(s\) were sized here at about/,
      ),
    );
    const made = rollback.preservation!.kept!;
    expect(made.copies.every((copy) => !copy.estimated)).toBe(true);
    const madeBytes = made.copies.reduce((sum, copy) => sum + copy.bytes, 0);
    expect(estimated).toBeGreaterThan(madeBytes / 2);
    expect(estimated).toBeLessThan(madeBytes * 3);
  });
});

describe('preserve-statements-file: a bad file is an input error, before anything connects', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'estimate-file-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    [
      'missing.json',
      undefined,
      /Input "preserve-statements-file" is ".*missing\.json": no such file; it must be the preserve-statements-file output of a dry run/,
    ],
    ['notjson.json', 'DROP TABLE audit', /is not JSON/],
    [
      'wrong.json',
      JSON.stringify({ version: 1, statements: [{ sql: 'DROP TABLE audit' }] }),
      /is not a list of destroying statements/,
    ],
    ['v2.json', JSON.stringify({ version: 2, statements: [] }), /is not a list of destroying statements/],
  ])('%s', (name, content, message) => {
    const file = path.join(dir, name);
    if (content !== undefined) fs.writeFileSync(file, content);
    expect(() => readDestroyingStatements(file, 'preserve-statements-file')).toThrow(message);
  });

  it('reads back what a dry run writes', () => {
    const file = path.join(dir, 'ok.json');
    const statements = [{ migration: '002_x.js', sql: 'DROP TABLE "a|b"', inTransaction: true }];
    fs.writeFileSync(file, destroyingStatementsJson(statements));
    expect(readDestroyingStatements(file, 'preserve-statements-file')).toEqual(statements);
  });
});
