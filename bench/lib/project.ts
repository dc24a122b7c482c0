import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateMigrations } from './generate-migrations.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A throwaway project as a caller's repository looks: package.json, tsconfig, knexfile.ts,
 * `count` generated migrations, and node_modules (knex, ts-node, typescript) as `npm ci`
 * would have put them there, for the Knex CLI the benchmarks compare against.
 */
export function createBenchProject(prefix: string, count: number): { dir: string; downSql: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench-service', private: true }, null, 2));
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify(
      { compilerOptions: { module: 'commonjs', target: 'es2022', esModuleInterop: true, strict: true } },
      null,
      2,
    ),
  );
  fs.writeFileSync(
    path.join(dir, 'knexfile.ts'),
    `import type { Knex } from 'knex';

const config: Record<string, Knex.Config> = {
  production: {
    client: 'pg',
    connection: process.env.DATABASE_URL,
    migrations: { directory: './migrations', extension: 'ts', loadExtensions: ['.ts'] },
  },
};

module.exports = config;
`,
  );
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const { downSql } = generateMigrations(path.join(dir, 'migrations'), { count });
  return { dir, downSql };
}
