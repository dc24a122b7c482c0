import path from 'node:path';
import { listMigrationFiles } from '../../src/migrations/source.js';
import { silentLogger } from '../../src/common/logger.js';
import { checkReversibility, type CheckOptions, type MigrationCheck } from '../../src/reversibility/checker.js';
import { adminQuery, adminUrl } from '../helpers/database.js';
import { repoRoot } from '../helpers/run-bundle.js';

const corpus = (name: string) =>
  listMigrationFiles([path.join(repoRoot, 'test/fixtures/reversibility', name, 'migrations')]);

/** Runs a check and remembers which scratch databases it announced, to prove they are gone. */
async function check(options: Omit<CheckOptions, 'serverUrl'>) {
  const lines: string[] = [];
  const logger = { ...silentLogger, info: (message: string) => void lines.push(message) };
  const scratch = () => [...new Set(lines.join('\n').match(/verify_reversible_[0-9a-f]+/g) ?? [])];
  try {
    return {
      result: await checkReversibility({ ...options, serverUrl: adminUrl(), logger }),
      scratch: scratch(),
      error: undefined,
    };
  } catch (error) {
    return { result: undefined, scratch: scratch(), error: error as Error };
  }
}

async function existingDatabases(names: string[]): Promise<string[]> {
  const { rows } = await adminQuery('SELECT datname FROM pg_database WHERE datname = ANY($1)', [names]);
  return rows.map((row) => String(row.datname));
}

const byName = (checks: MigrationCheck[]) => Object.fromEntries(checks.map((each) => [each.name, each]));

describe('checkReversibility', () => {
  it('reports nothing for a corpus whose down()s are exact, tricky ones included', async () => {
    const { result, scratch, error } = await check({ files: corpus('exact') });
    expect(error).toBeUndefined();
    expect(result!.checks.map((each) => [each.name, each.outcome, each.left, each.lost, each.warnings])).toEqual(
      corpus('exact').map((file) => [file.name, 'exact', [], [], []]),
    );
    expect(result!.rebuilds).toBe(0);
    expect(scratch).toHaveLength(1);
    expect(await existingDatabases(scratch)).toEqual([]);
  });

  describe('on planted faults', () => {
    let checks: Record<string, MigrationCheck>;
    let scratch: string[];
    beforeAll(async () => {
      const run = await check({ files: corpus('faults') });
      expect(run.error).toBeUndefined();
      checks = byName(run.result!.checks);
      scratch = run.scratch;
    });

    it('reports a forgotten index as left behind', () => {
      expect(checks['002_forgets_index.ts']).toMatchObject({ left: ['index tickets_state_idx'], lost: [] });
      expect(checks['002_forgets_index.ts'].reason).toContain('index tickets_state_idx left behind');
    });

    it('reports a forgotten enum type as left behind', () => {
      expect(checks['003_forgets_enum_type.ts']).toMatchObject({ left: ['enum type ticket_channel'], lost: [] });
    });

    it('reports a NOT NULL that down() does not restore as lost', () => {
      expect(checks['004_forgets_not_null.ts']).toMatchObject({
        outcome: 'difference',
        left: [],
        lost: ['column tickets.priority: NOT NULL'],
      });
      expect(checks['004_forgets_not_null.ts'].reason).toContain('column tickets.priority: NOT NULL lost');
    });

    it('reports an un-awaited query in down() by the schema it leaves', () => {
      expect(checks['005_unawaited_down.ts']).toMatchObject({
        left: ['table ticket_notes'],
        lost: [],
        warnings: ['down() builds a query it never runs (a missing await?): drop table "ticket_notes"'],
      });
    });

    it('reports a down() that throws with its statement and error', () => {
      const thrown = checks['006_throwing_down.ts'];
      expect(thrown).toMatchObject({ outcome: 'error', failure: { step: 'down' } });
      expect(thrown.failure!.error).toContain('DROP TABLE ticket_tag');
      expect(thrown.failure!.error).toContain('table "ticket_tag" does not exist');
    });

    it('reports an up() that fails after down(), though the schema is equal', () => {
      const again = checks['007_up_after_down_fails.ts'];
      expect(again).toMatchObject({ outcome: 'error', left: [], lost: [], failure: { step: 'up after down' } });
      expect(again.failure!.error).toContain('duplicate key value violates unique constraint "ticket_states_pkey"');
    });

    it('checks each migration from the state its predecessor’s up() left, whatever failed before', () => {
      expect(checks['001_create_tickets.ts'].outcome).toBe('exact');
      expect(checks['008_exact_after_faults.ts']).toMatchObject({ outcome: 'exact', left: [], lost: [] });
    });

    it('drops every scratch database it made, rebuilt ones included', async () => {
      expect(scratch.length).toBeGreaterThan(1);
      expect(await existingDatabases(scratch)).toEqual([]);
    });
  });

  describe('on the planted cases of real projects', () => {
    let checks: Record<string, MigrationCheck>;
    let scratch: string[];
    beforeAll(async () => {
      const run = await check({ files: corpus('planted') });
      expect(run.error).toBeUndefined();
      checks = byName(run.result!.checks);
      scratch = run.scratch;
    });

    it('reports each extension left behind once, not the objects it owns', () => {
      expect(checks['002_extensions_left_behind.ts']).toMatchObject({
        outcome: 'difference',
        left: ['extension citext', 'extension uuid-ossp'],
        lost: [],
        warnings: [],
      });
    });

    it('names long objects in full and tells apart columns whose first 63 bytes are the same', () => {
      // up() then fails again on the constraint down() left: an error, with the difference listed.
      expect(checks['003_long_names.ts']).toMatchObject({
        outcome: 'error',
        failure: { step: 'up after down' },
        left: [
          'column saved_queries_version_additional_metrics.saved_queries_version_additional_metric_id: NOT NULL',
          'constraint dashboard_versions_updated_by_user_uuid_foreign on dashboard_versions',
        ],
        lost: [],
      });
    });

    it('warns about a down() that deletes or overwrites rows of an older table, the schema being exact', () => {
      expect(checks['004_deletes_older_rows.ts']).toMatchObject({
        outcome: 'exact',
        warnings: ['down() deletes rows from saved_queries_versions (a table older than this migration)'],
      });
      expect(checks['005_updates_older_rows.ts']).toMatchObject({
        outcome: 'exact',
        warnings: ['down() updates rows of saved_queries_versions (a table older than this migration)'],
      });
    });

    it('does not warn about a lookup value up() inserted, nor about a table the migration created', () => {
      expect(checks['006_lookup_value.ts']).toMatchObject({ outcome: 'exact', warnings: [] });
      expect(checks['007_own_table_with_rows.ts']).toMatchObject({ outcome: 'exact', warnings: [] });
    });

    it('warns about a query down() builds and never runs', () => {
      expect(checks['008_forgotten_await.ts']).toMatchObject({
        outcome: 'error',
        failure: { step: 'up after down' },
        left: ['table audit_notes'],
        warnings: ['down() builds a query it never runs (a missing await?): drop table "audit_notes"'],
      });
    });

    it('warns about a query down() does not wait for', () => {
      expect(checks['009_query_not_awaited.ts']).toMatchObject({
        outcome: 'exact',
        warnings: ['down() returned before its query finished (a missing await?): SELECT count(*) FROM statuses'],
      });
    });

    it('keeps what down() sends from a timer after it returned as its own, and warns about it', () => {
      expect(checks['011_query_after_return.ts']).toMatchObject({
        outcome: 'exact',
        warnings: [
          'down() deletes rows from saved_queries_versions (a table older than this migration)',
          `down() sends a query after it returned: delete from "saved_queries_versions" where "name" = 'obsolete'`,
        ],
      });
    });

    it('sees what down() sends below Knex, on the connection its client hands out', () => {
      expect(checks['012_deletes_through_connection.ts']).toMatchObject({
        outcome: 'exact',
        warnings: ['down() deletes rows from saved_queries_versions (a table older than this migration)'],
      });
    });

    it('sees each statement of a multi-statement raw query', () => {
      expect(checks['013_deletes_in_multi_statement_raw.ts']).toMatchObject({
        outcome: 'exact',
        warnings: ['down() deletes rows from statuses (a table older than this migration)'],
      });
    });

    it('warns about code down() runs whose effect on rows cannot be read: a DO block, a procedure, a function', () => {
      expect(checks['014_runs_opaque_code.ts']).toMatchObject({
        outcome: 'exact',
        warnings: [
          'down() runs code whose effect on rows cannot be read: DO $$ BEGIN PERFORM 1; END $$',
          'down() runs code whose effect on rows cannot be read: CALL archive_saved_queries()',
          'down() runs code whose effect on rows cannot be read: SELECT prune_saved_queries()',
        ],
      });
    });

    it('warns about a down() that deletes more rows of a table than its up() inserted into it', () => {
      // statuses holds open, closed and archived (001, 006) besides the value 015's up() adds.
      expect(checks['015_wipes_lookup_table.ts']).toMatchObject({
        outcome: 'exact',
        warnings: [
          'down() deletes 4 rows from statuses, more than the 1 its up() inserted (a table older than this migration)',
        ],
      });
    });

    it('warns about a query down() builds and never runs inside a transaction of its own', () => {
      expect(checks['016_unawaited_in_transaction.ts']).toMatchObject({
        outcome: 'exact',
        warnings: [
          `down() builds a query it never runs (a missing await?): update "saved_queries_versions" set "name" = 'unfiled'`,
        ],
      });
    });

    it('waits for a timer down() left behind, and warns about the query it sends after down() returned', () => {
      expect(checks['017_query_from_late_timer.ts']).toMatchObject({
        outcome: 'exact',
        warnings: [
          'down() deletes rows from saved_queries_versions (a table older than this migration)',
          `down() sends a query after it returned: delete from "saved_queries_versions" where "name" = 'expired'`,
        ],
      });
    });

    it('finds nothing in the migrations that are exact, before and after the findings', () => {
      for (const name of ['001_saved_queries.ts', '010_exact_after_findings.ts'])
        expect(checks[name]).toMatchObject({ outcome: 'exact', left: [], lost: [], warnings: [] });
    });

    it('drops every scratch database it made', async () => {
      expect(await existingDatabases(scratch)).toEqual([]);
    });
  });

  it('warns about a timer down() leaves running longer than the guard waits for it', async () => {
    // A clock whose sleeps end at once: the guard's grace is over before the two-second timer fires.
    const clock = { now: () => Date.now(), sleep: () => new Promise<void>((resolve) => setImmediate(resolve)) };
    const { result, error } = await check({
      files: corpus('planted'),
      only: ['017_query_from_late_timer.ts'],
      clock,
    });
    expect(error).toBeUndefined();
    expect(result!.checks).toMatchObject([
      {
        name: '017_query_from_late_timer.ts',
        outcome: 'exact',
        warnings: [
          'down() left a timer running after it returned (waited 2000 ms): what it sends then is not part of the check',
        ],
      },
    ]);
  });

  it("keeps Knex's migrations table in schemaName and compares the schema it is given, public by default", async () => {
    const { result, error } = await check({ files: corpus('meta-schema'), schemaName: 'knex_meta' });
    expect(error).toBeUndefined();
    expect(result!.checks.map((each) => [each.name, each.outcome, each.left, each.lost])).toEqual([
      ['001_create_accounts.ts', 'exact', [], []],
      ['002_forgets_not_null.ts', 'difference', [], ['column accounts.email: NOT NULL']],
    ]);
  });

  it('fails when the compared schema holds nothing after the ups: it compared nothing', async () => {
    const { error, scratch } = await check({
      files: corpus('meta-schema'),
      schemaName: 'knex_meta',
      schema: 'knex_meta',
    });
    expect(error?.name).toBe('ConfigurationError');
    expect(error?.message).toContain('Schema "knex_meta" held no table, view, type or function after any up()');
    expect(await existingDatabases(scratch)).toEqual([]);
  });

  it('honours disableTransactions as Knex does: a migration without config.transaction then runs outside one', async () => {
    const outside = await check({ files: corpus('no-transaction'), disableTransactions: true });
    expect(outside.error).toBeUndefined();
    expect(outside.result!.checks.map((each) => [each.name, each.outcome])).toEqual([
      ['001_create_tickets.ts', 'exact'],
      ['002_concurrent_index.ts', 'exact'],
    ]);
    const inside = await check({ files: corpus('no-transaction') });
    expect(inside.result!.checks[1]).toMatchObject({ outcome: 'error', failure: { step: 'up' } });
    expect(inside.result!.checks[1].failure!.error).toContain('cannot run inside a transaction block');
  });

  it('stops when cancelled during a down(), drops its database and starts nothing after', async () => {
    const controller = new AbortController();
    const running = check({ files: corpus('slow-down'), signal: controller.signal });
    let sleeping: string[] = [];
    while (sleeping.length === 0) {
      const { rows } = await adminQuery(
        "SELECT datname FROM pg_stat_activity WHERE datname LIKE 'verify\\_reversible\\_%' AND query LIKE '%pg_sleep(60)%'",
      );
      sleeping = rows.map((row) => String(row.datname));
      if (sleeping.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    controller.abort('Cancelled by SIGTERM');
    const { error, scratch } = await running;
    expect(error?.name).toBe('CheckCancelled');
    expect(error?.message).toBe('Cancelled by SIGTERM');
    expect(scratch).toEqual(sleeping);
    expect(await existingDatabases(sleeping)).toEqual([]);
  });

  it('applies the migrations before those in `only` unchecked, and checks just those', async () => {
    const { result, error } = await check({
      files: corpus('exact'),
      only: ['004_widen_open_tickets_view', '006_concurrent_index.ts'],
    });
    expect(error).toBeUndefined();
    expect(result!.appliedUnchecked).toEqual([
      '001_create_tickets.ts',
      '002_rename_title.ts',
      '003_ticket_comments_rls.ts',
      '005_touch_trigger.ts',
    ]);
    expect(result!.checks.map((each) => [each.name, each.outcome])).toEqual([
      ['004_widen_open_tickets_view.ts', 'exact'],
      ['006_concurrent_index.ts', 'exact'],
    ]);
  });

  it('refuses an unknown name in `only` before creating anything', async () => {
    const { error, scratch } = await check({ files: corpus('exact'), only: ['009_nope.ts'] });
    expect(error?.name).toBe('ConfigurationError');
    expect(error?.message).toContain('Input "only" names "009_nope.ts"');
    expect(error?.message).toContain('001_create_tickets.ts');
    expect(scratch).toEqual([]);
  });

  it('reports an up() that fails and does not reach the migrations after it', async () => {
    const { result } = await check({ files: corpus('broken-up') });
    expect(result!.checks.map((each) => [each.name, each.outcome, each.failure?.step])).toEqual([
      ['001_ok.ts', 'exact', undefined],
      ['002_up_fails.ts', 'error', 'up'],
    ]);
    expect(result!.notReached).toEqual(['003_ok.ts']);
  });

  it('drops the scratch database when the check itself fails', async () => {
    const { error, scratch } = await check({ files: corpus('broken-up'), only: ['003_ok.ts'] });
    expect(error?.message).toContain(
      'Migration 002_up_fails.ts (applied before the checked ones, as "only" asks) failed in up()',
    );
    expect(scratch).toHaveLength(1);
    expect(await existingDatabases(scratch)).toEqual([]);
  });
});
