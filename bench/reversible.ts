// npm run bench:reversible [-- --count 200 --runs 3]
//
// verify-reversible against `knex migrate:latest` on the same N generated TypeScript
// migrations, each as a whole process on the same embedded PostgreSQL (fsync on, as a
// production server commits), medians printed side by side:
//   (a) `knex migrate:latest` from the Knex CLI, loading the TypeScript through ts-node in
//       transpile-only mode, on a fresh database per run;
//   (b) the verify-reversible bundle as the runner runs it (Node 24, INPUT_* variables): every
//       migration up, down and up again, each in its own committed transaction, with a schema
//       capture before up() and after down(), on a scratch database it creates and drops.
// Each (b) run must check every migration and find every one exact (the generator's downs
// are), so a check that silently did less cannot look faster. Target (issue 10): b/a <= 4.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../test/support/embedded-postgres.js';
import { median, timeProcess } from './lib/measure.js';
import { createBenchProject } from './lib/project.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node24 = path.join(repoRoot, 'node_modules/.bin/node');
const bundle = path.join(repoRoot, 'dist/verify-reversible/index.js');
const TARGET = 4;

const { values: flags } = parseArgs({
  options: {
    count: { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
  },
});
const count = Number(flags.count);
const runs = Number(flags.runs);
if (!Number.isInteger(count) || count < 1)
  throw new Error(`--count must be a whole number of at least 1, got "${flags.count}"`);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`--runs must be a whole number of at least 1, got "${flags.runs}"`);

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build -- verify-reversible\` first`);
  const server = await startEmbeddedPostgres({ fsync: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-reversible-'));
  const project = createBenchProject('bench-reversible-project', count).dir;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  try {
    const version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
    const baseEnv = {
      PATH: `${path.join(repoRoot, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? os.homedir(),
    };

    const runKnexLatest = async (run: number): Promise<number> => {
      const database = `bench_latest_${run}`;
      await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      await admin.query(`CREATE DATABASE ${database}`);
      const url = new URL(server.adminUrl);
      url.pathname = `/${database}`;
      const { ms } = await timeProcess(
        node24,
        [
          path.join(project, 'node_modules/.bin/knex'),
          'migrate:latest',
          '--knexfile',
          'knexfile.ts',
          '--env',
          'production',
        ],
        {
          cwd: project,
          env: { ...baseEnv, DATABASE_URL: url.toString(), TS_NODE_TRANSPILE_ONLY: 'true' },
        },
      );
      const applied = (await queryOn(url.toString(), 'SELECT count(*)::int AS n FROM knex_migrations'))[0].n as number;
      if (applied !== count) throw new Error(`knex migrate:latest applied ${applied} of ${count} migrations`);
      await admin.query(`DROP DATABASE ${database}`);
      return ms;
    };

    const runVerify = async (): Promise<{
      ms: number;
      report: { checked: number; exact: string[]; durationMs: number };
    }> => {
      const files = ['output', 'summary', 'state', 'env'].map((name) => path.join(work, name));
      for (const file of files) fs.writeFileSync(file, '');
      const { ms, stdout } = await timeProcess(node24, [bundle], {
        cwd: project,
        env: {
          ...baseEnv,
          'INPUT_DATABASE-URL': server.adminUrl,
          'INPUT_MIGRATIONS-DIR': 'migrations',
          'INPUT_MIGRATIONS-TABLE': 'knex_migrations',
          INPUT_SCHEMA: 'public',
          'INPUT_FAIL-ON': 'difference',
          GITHUB_OUTPUT: files[0],
          GITHUB_STEP_SUMMARY: files[1],
          GITHUB_STATE: files[2],
          GITHUB_ENV: files[3],
          GITHUB_WORKSPACE: project,
          RUNNER_TEMP: work,
        },
      });
      if (/^::error/m.test(stdout)) throw new Error(`verify-reversible reported an error:\n${stdout.slice(-3000)}`);
      const report = JSON.parse(fs.readFileSync(path.join(work, 'verify-reversible-report.json'), 'utf8')) as {
        checked: number;
        exact: string[];
        durationMs: number;
      };
      if (report.checked !== count || report.exact.length !== count) {
        throw new Error(
          `verify-reversible checked ${report.checked} and found ${report.exact.length} exact of ${count} migrations`,
        );
      }
      return { ms, report };
    };

    console.log(
      `verify-reversible vs knex migrate:latest: ${count} generated TypeScript migrations, PostgreSQL ${version} (fsync on), ${runs} run(s) each, medians`,
    );
    const knexTimes: number[] = [];
    const verifyTimes: number[] = [];
    const checkTimes: number[] = [];
    for (let run = 1; run <= runs; run++) {
      knexTimes.push(await runKnexLatest(run));
      const verify = await runVerify();
      verifyTimes.push(verify.ms);
      checkTimes.push(verify.report.durationMs);
      console.log(
        `  run ${run}: knex migrate:latest ${seconds(knexTimes.at(-1)!)}, verify-reversible ${seconds(verify.ms)} (check itself ${seconds(verify.report.durationMs)})`,
      );
    }
    const a = median(knexTimes);
    const b = median(verifyTimes);
    const check = median(checkTimes);
    const rows: [string, string, string][] = [
      ['(a) knex migrate:latest (Knex CLI, ts-node transpile-only, 1 transaction)', seconds(a), '1.00x'],
      [
        `(b) verify-reversible bundle (Node 24): ${count} x up/down/up + ${2 * count} captures`,
        seconds(b),
        `${(b / a).toFixed(2)}x`,
      ],
    ];
    const width = Math.max(...rows.map((row) => row[0].length));
    console.log('');
    for (const [label, time, ratio] of rows)
      console.log(`${label.padEnd(width)}  ${time.padStart(9)}  ${ratio.padStart(6)}`);
    console.log('');
    console.log(
      `(b) per migration: ${(check / count).toFixed(1)} ms (up, down, up, 2 captures); outside the check (process start, loading): ${seconds(b - check)}`,
    );
    console.log(`target b/a <= ${TARGET}: ${b / a <= TARGET ? 'met' : 'NOT met'} (${(b / a).toFixed(2)})`);
  } finally {
    await admin.end();
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(project, { recursive: true, force: true });
  }
}

async function queryOn(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(sql)).rows;
  } finally {
    await client.end();
  }
}

await main();
