import fs from 'node:fs';
import { createDatabase, type TestDatabase } from '../helpers/database.js';
import { runBundle, type BundleRun } from '../helpers/run-bundle.js';
import { applyBatches, copyProject } from '../rollback/helpers.js';
import { checksum, preserveDir } from './helpers.js';
import { repoRoot } from '../helpers/run-bundle.js';
import path from 'node:path';

// The round trip through dist/rollback/index.js as the runner runs it: roll back with the
// defaults (preserve-data: true), re-apply, restore-data with the preserve-id output.
describe('the rollback action keeps what it destroys and restore-data puts it back', () => {
  let db: TestDatabase;
  let project: string;

  beforeAll(async () => {
    db = await createDatabase('preserve_action');
    project = copyProject(path.join(repoRoot, 'test/fixtures/preserve'));
  });
  afterAll(async () => {
    await db.drop();
    fs.rmSync(project, { recursive: true, force: true });
  });

  const restoredCounts = (run: BundleRun): number[] =>
    (JSON.parse(run.outputs.restored) as { restored: number }[]).map((copy) => copy.restored);

  function action(inputs: Record<string, string>): Promise<BundleRun> {
    return runBundle('rollback', {
      inputs: { 'database-url': db.url, 'migrations-dir': 'migrations', ...inputs },
      cwd: project,
    });
  }

  async function apply(batches: string[][]): Promise<void> {
    const knex = db.knex();
    await applyBatches(knex, batches, preserveDir);
    await knex.destroy();
  }

  it('rolls back, re-applies and restores every value; a second restore changes nothing', async () => {
    await apply([['001_base.js'], ['002_notes_and_audit.js']]);
    await db.query(`
      INSERT INTO tickets (title, source, note) SELECT 'web ' || i, 'web', 'note ' || i FROM generate_series(1, 30) i;
      INSERT INTO tickets (title, source, note) SELECT 'import ' || i, 'import', 'imported | ' || i FROM generate_series(1, 5) i;
      INSERT INTO audit (ticket_id, action) SELECT i, 'viewed' FROM generate_series(1, 12) i;`);
    const before = [await checksum(db, 'tickets', 'id'), await checksum(db, 'audit', 'id')];

    const dry = await action({ mode: 'plan', 'dry-run': 'true', 'allow-destructive': 'true' });
    expect(dry.errors).toEqual([]);
    expect(dry.outputs['preserve-id']).toBe('');
    expect(JSON.parse(dry.outputs.preserved)).toHaveLength(4);
    expect(dry.summary).toMatch(/A real run would keep an estimated [\d.]+ (kB|bytes|MB)/);

    const rollback = await action({ mode: 'rollback', 'allow-destructive': 'true' });
    expect(rollback.errors).toEqual([]);
    const id = rollback.outputs['preserve-id'];
    expect(id).toMatch(/^rb\d{12}_[0-9a-f]{6}$/);
    const preserved = JSON.parse(rollback.outputs.preserved) as {
      source: string;
      kind: string;
      rows: number;
      copy: string;
    }[];
    expect(preserved.map((copy) => [copy.kind, copy.source, copy.rows])).toEqual([
      ['delete', 'public.tickets', 5],
      ['delete', 'public.events', 0],
      ['drop-table', 'public.audit', 12],
      ['drop-column', 'public.tickets', 30],
    ]);
    // events was never written to: nothing to keep, so no copy table (and no catalog row) for it.
    expect(preserved.map((copy) => (copy.copy ? copy.copy.startsWith(`rollback_preserved.${id}_`) : 'none'))).toEqual([
      true,
      'none',
      true,
      true,
    ]);
    expect(rollback.summary).toContain('### Nothing lost: data kept in the database');
    expect(rollback.summary).toContain(`\`mode: restore-data\` and \`preserve-id: ${id}\``);

    const early = await action({ mode: 'restore-data', 'preserve-id': id });
    expect(early.code).not.toBe(0);
    expect(early.errors.join('\n')).toMatch(/Re-apply migration 002_notes_and_audit\.js/);

    await apply([['001_base.js', '002_notes_and_audit.js']]);
    const restore = await action({ mode: 'restore-data', 'preserve-id': id });
    expect(restore.errors).toEqual([]);
    expect(restoredCounts(restore)).toEqual([5, 12, 30]);
    expect([await checksum(db, 'tickets', 'id'), await checksum(db, 'audit', 'id')]).toEqual(before);
    const again = await action({ mode: 'restore-data', 'preserve-id': id });
    expect(restoredCounts(again)).toEqual([0, 0, 0]);
    expect([await checksum(db, 'tickets', 'id'), await checksum(db, 'audit', 'id')]).toEqual(before);
  });

  it('rejects a size it cannot read, naming the input and the form it takes, before connecting', async () => {
    const run = await action({ mode: 'rollback', 'preserve-data-max': '2 gigs' });
    expect(run.code).not.toBe(0);
    expect(run.errors.join('\n')).toContain(
      'Input "preserve-data-max" is "2 gigs": it must be a size such as 100kB, 256MB or 2GB',
    );
  });
});
