// npm run bench:preserve [-- --rows 1000000 --runs 3]
//
// What keeping the data costs. A rollback whose down() drops a column of a table of N rows
// and drops a second table of N rows, run with preserve-data off and on, on an embedded
// PostgreSQL with fsync on; then restore-data after the migration is re-applied. Printed:
// the rollback's time, its extra time with preservation on, the longest a concurrent writer
// waited on the table (the lock-hold time a user sees), and the restore's time, next to what
// AWS documents for restoring an RDS snapshot. The domain code runs in this process (the
// action's bundle adds its fixed start-up to both sides alike).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import knexFactory from 'knex';
import pg from 'pg';
import type { Logger } from '../src/common/logger.js';
import { runRollback, type RollbackOptions } from '../src/migrations/rollback.js';
import { FileMigrationSource, listMigrationFiles } from '../src/migrations/source.js';
import { formatSize } from '../src/preserve/size.js';
import { classifyEach, classifyStatements } from '../src/sql/classify.js';
import { startEmbeddedPostgres } from '../test/support/embedded-postgres.js';
import { median } from './lib/measure.js';

const { values: flags } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' } },
});
const rows = Number(flags.rows);
const runs = Number(flags.runs);
if (!Number.isInteger(rows) || rows < 1000)
  throw new Error(`--rows must be a whole number of at least 1000, got "${flags.rows}"`);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs must be a whole number of at least 1, got "${flags.runs}"`);

// AWS's own words on how long a snapshot restore takes (README "Nothing lost" cites them).
const AWS_SNAPSHOT = [
  'RDS snapshot restore, as AWS documents it: creating the instance "typically takes few minutes" (PITR longer),',
  'then blocks load lazily from S3, slower the larger the database; the lost rows are then copied back by hand.',
  'https://aws.amazon.com/blogs/database/prewarm-an-amazon-rds-for-oracle-database-to-reduce-the-impact-of-lazy-loading/',
  'https://repost.aws/knowledge-center/rds-mysql-snapshot-restore',
];

const quiet: Logger = {
  info: () => undefined,
  warning: () => undefined,
  debug: () => undefined,
  error: () => undefined,
  group: (_name, body) => body(),
};

function writeProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-preserve-'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  fs.mkdirSync(path.join(dir, 'migrations'));
  fs.writeFileSync(
    path.join(dir, 'migrations/001_items.js'),
    `export async function up(knex) { await knex.raw('CREATE TABLE items (id bigint PRIMARY KEY, n integer NOT NULL DEFAULT 0)'); }
export async function down(knex) { await knex.raw('DROP TABLE items'); }
`,
  );
  fs.writeFileSync(
    path.join(dir, 'migrations/002_memo_and_events.js'),
    `export async function up(knex) {
  await knex.raw('ALTER TABLE items ADD COLUMN memo text');
  await knex.raw('CREATE TABLE events (id bigserial PRIMARY KEY, item_id bigint NOT NULL, body text NOT NULL)');
}
export async function down(knex) {
  await knex.raw('DROP TABLE events');
  await knex.raw('ALTER TABLE items DROP COLUMN memo');
}
`,
  );
  return dir;
}

/** A writer updating random rows of items all along: its longest wait is how long the rollback held writes off. */
function startWriter(url: string): { stop(): Promise<number> } {
  const client = new pg.Client({ connectionString: url });
  let running = true;
  let longest = 0;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const started = performance.now();
      await client.query('UPDATE items SET n = n + 1 WHERE id = $1', [1 + Math.floor(Math.random() * rows)]);
      longest = Math.max(longest, performance.now() - started);
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return longest;
    },
  };
}

async function main(): Promise<void> {
  const server = await startEmbeddedPostgres({ fsync: true });
  const project = writeProject();
  const directory = path.join(project, 'migrations');
  try {
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE bench_preserve');
    await admin.end();
    const url = new URL(server.adminUrl);
    url.pathname = '/bench_preserve';
    const databaseUrl = url.toString();
    const sql = async (text: string) => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        return await client.query(text);
      } finally {
        await client.end();
      }
    };
    const migrate = async (names: string[]) => {
      const knex = knexFactory({ client: 'pg', connection: databaseUrl });
      const files = listMigrationFiles([directory]).filter((file) => names.includes(file.name));
      await knex.migrate.latest({ migrationSource: new FileMigrationSource(files) });
      await knex.destroy();
    };
    const options = (overrides: Partial<RollbackOptions>): RollbackOptions => ({
      databaseUrl,
      settings: {
        directories: [directory],
        tableName: 'knex_migrations',
        schemaName: 'public',
        sortDirsSeparately: false,
        disableTransactions: false,
      },
      mode: 'rollback',
      request: { kind: 'steps', steps: 1 },
      dryRun: false,
      allowDestructive: true,
      allowNonAtomic: false,
      lockTimeoutMs: 60_000,
      lockWaitBudgetMs: 600_000,
      sessionIdleTimeoutMs: 60_000,
      showBlockerQueries: true,
      statementTimeoutMs: 600_000,
      forceUnlock: false,
      applicationName: 'bench-preserve',
      classify: classifyStatements,
      classifyEach,
      logger: quiet,
      ...overrides,
    });
    const reset = async () => {
      await sql('DROP SCHEMA IF EXISTS rollback_preserved CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public');
      await migrate(['001_items.js']);
      await migrate(['001_items.js', '002_memo_and_events.js']);
      await sql(
        `INSERT INTO items (id, memo) SELECT i, 'memo of item ' || i || ' ' || md5(i::text) FROM generate_series(1, ${rows}) i`,
      );
      await sql(
        `INSERT INTO events (item_id, body) SELECT i, 'event ' || md5(i::text) FROM generate_series(1, ${rows}) i`,
      );
      await sql('VACUUM ANALYZE');
    };

    const figures = {
      off: [] as number[],
      on: [] as number[],
      waitOff: [] as number[],
      waitOn: [] as number[],
      restore: [] as number[],
    };
    let kept = 0;
    // Untimed: the parser process and the migration modules are loaded once, as in any one run.
    await reset();
    await runRollback(options({}));
    for (let run = 0; run < runs; run++) {
      for (const preserve of [false, true]) {
        await reset();
        const writer = startWriter(databaseUrl);
        const started = performance.now();
        const result = await runRollback(
          options({ preserve: { enabled: preserve, maxBytes: 64 * 1024 ** 3, schema: 'rollback_preserved' } }),
        );
        const took = performance.now() - started;
        const waited = await writer.stop();
        (preserve ? figures.on : figures.off).push(took);
        (preserve ? figures.waitOn : figures.waitOff).push(waited);
        if (!preserve) continue;
        const id = result.preservation!.kept!.id;
        kept = result.preservation!.kept!.copies.reduce((sum, copy) => sum + copy.bytes, 0);
        await migrate(['001_items.js', '002_memo_and_events.js']);
        const restoreStarted = performance.now();
        const restored = await runRollback(
          options({ mode: 'restore-data', preserve: { enabled: true, maxBytes: 0, schema: 'rollback_preserved', id } }),
        );
        figures.restore.push(performance.now() - restoreStarted);
        const back = restored.preservation!.restored!.copies.reduce((sum, copy) => sum + copy.restored, 0);
        if (back !== 2 * rows) throw new Error(`restore-data put back ${back} rows, expected ${2 * rows}`);
      }
    }
    const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const version = (await sql('SHOW server_version')).rows as { server_version: string }[];
    console.log(
      `\nnpm run bench:preserve: ${rows.toLocaleString('en')} rows in each of two tables (a dropped column, a dropped table), PostgreSQL ${version[0].server_version}, fsync on, median of ${runs} run(s)\n`,
    );
    console.log('| | Rollback | Extra time | Longest write wait on items |');
    console.log('|---|---|---|---|');
    console.log(`| preserve-data: false | ${seconds(median(figures.off))} | — | ${seconds(median(figures.waitOff))} |`);
    console.log(
      `| preserve-data: true | ${seconds(median(figures.on))} | +${seconds(median(figures.on) - median(figures.off))} | ${seconds(median(figures.waitOn))} |`,
    );
    console.log(`\nKept: ${formatSize(kept)} in rollback_preserved.`);
    console.log(
      `restore-data after the re-apply (${(2 * rows).toLocaleString('en')} rows and values back): ${seconds(median(figures.restore))}`,
    );
    console.log(`\n${AWS_SNAPSHOT.join('\n')}`);
  } finally {
    await server.stop();
    fs.rmSync(project, { recursive: true, force: true });
  }
}

await main();
