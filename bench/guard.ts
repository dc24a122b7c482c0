// npm run bench:guard [-- --statements 50000 --runs 3]
//
// The statement guard's cost on one long down(): a migration whose down() sends N statements,
// each awaited (as migration code does), rolled back (a) by the rollback core with the guard
// (the parser in this process, as the action runs it: this script runs under --liftoff-only),
// and (b) by the same down() on a plain Knex transaction, no check at all. Both commit on the
// same embedded PostgreSQL; the figure is each one's time from BEGIN to COMMIT, median of the
// runs, interleaved. Every statement's text differs (no verdict is reused). Target (issue 15): a/b <= 1.5.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from '../src/common/logger.js';
import { runRollback } from '../src/migrations/rollback.js';
import { classifyEach, classifyStatements } from '../src/sql/classify.js';
import { startEmbeddedPostgres } from '../test/support/embedded-postgres.js';
import { median } from './lib/measure.js';

const TARGET = 1.5;
const { values: flags } = parseArgs({
  options: { statements: { type: 'string', default: '50000' }, runs: { type: 'string', default: '3' } },
});
const count = Number(flags.statements);
const runs = Number(flags.runs);
if (!process.execArgv.includes('--liftoff-only'))
  throw new Error('run through npm run bench:guard (node --liftoff-only): the action parses in process only so');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-guard-'));
const migration = path.join(dir, '001_long_down.cjs');
fs.writeFileSync(
  migration,
  `exports.up = async (knex) => {
  await knex.raw('CREATE TABLE counters (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)');
  await knex.raw('INSERT INTO counters (id) SELECT generate_series(0, 99)');
};
exports.down = async (knex) => {
  for (let i = 0; i < ${count}; i++) await knex.raw('UPDATE counters SET v = v + 1 WHERE id = ' + i);
  await knex.raw('DROP TABLE counters');
};
`,
);

const quiet: Logger & { lines: string[] } = {
  lines: [],
  info(message) {
    this.lines.push(message);
  },
  warning: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  group: (_name, body) => body(),
};

async function main(): Promise<void> {
  const server = await startEmbeddedPostgres({ fsync: true });
  let knex: Knex | undefined;
  try {
    const admin = knexFactory({ client: 'pg', connection: server.adminUrl });
    await admin.raw('CREATE DATABASE bench_guard');
    await admin.destroy();
    const url = new URL(server.adminUrl);
    url.pathname = '/bench_guard';
    knex = knexFactory({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 2 } });
    const db = knex;
    const settings = {
      directories: [dir],
      tableName: 'knex_migrations',
      schemaName: 'public',
      sortDirsSeparately: false,
      disableTransactions: false,
    };
    const up = () => db.migrate.latest({ directory: dir, loadExtensions: ['.cjs'] });
    const guarded = async (): Promise<number> => {
      await up();
      await runRollback({
        databaseUrl: url.toString(),
        settings,
        mode: 'rollback',
        request: { kind: 'all' },
        dryRun: false,
        allowDestructive: true,
        allowNonAtomic: false,
        lockTimeoutMs: 5000,
        lockWaitBudgetMs: 60_000,
        sessionIdleTimeoutMs: 60_000,
        showBlockerQueries: true,
        statementTimeoutMs: 600_000,
        forceUnlock: false,
        applicationName: 'bench-guard',
        classify: classifyStatements,
        classifyEach,
        logger: quiet,
      });
      const line = quiet.lines.findLast((message) => message.startsWith('Lock-hold:'))!;
      return Number(/([\d.]+) ms/.exec(line)![1]);
    };
    const unguarded = async (): Promise<number> => {
      await up();
      const { down } = (await import(migration)) as { down: (knex: Knex) => Promise<void> };
      const started = performance.now();
      await db.transaction(async (trx) => {
        await down(trx);
        await trx('knex_migrations').del();
      });
      return performance.now() - started;
    };
    const times = { a: [] as number[], b: [] as number[] };
    console.log(
      `A down() of ${count} awaited statements, ${runs} runs each, interleaved (Node ${process.version}, ${os.cpus().length} CPUs).`,
    );
    for (let round = 1; round <= runs; round++) {
      times.a.push(await guarded());
      times.b.push(await unguarded());
      console.log(
        `  run ${round}: (a) guarded ${times.a.at(-1)!.toFixed(0)} ms, (b) unchecked ${times.b.at(-1)!.toFixed(0)} ms`,
      );
    }
    const ratio = median(times.a) / median(times.b);
    console.log(`Median BEGIN to COMMIT: (a) ${median(times.a).toFixed(0)} ms, (b) ${median(times.b).toFixed(0)} ms`);
    console.log(`  a/b = ${ratio.toFixed(2)} (target <= ${TARGET}: ${ratio <= TARGET ? 'met' : 'MISSED'})`);
  } finally {
    await knex?.destroy();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
