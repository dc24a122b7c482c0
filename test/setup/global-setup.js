// One PostgreSQL for the whole run: the server at DATABASE_URL when set, else an
// embedded one. Each test file then creates its own database on it (test/helpers/database.ts).
// A whole-suite run also brings every dist/ bundle up to date with the sources first (only the
// stale ones are rebuilt), so the bundle tests do not spend their time budget on ncc; a focused
// run leaves that to test/helpers/run-bundle.ts, which builds just the bundle a test runs.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from '../support/embedded-postgres.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default async function globalSetup(globalConfig) {
  const focused = (globalConfig.testPathPatterns?.patterns ?? globalConfig.testPathPattern ?? []).length > 0;
  if (!focused) {
    const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--if-stale'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (build.status !== 0) throw new Error(`Bringing dist/ up to date failed (exit ${build.status}).`);
  }
  if (process.env.DATABASE_URL) {
    process.env.TEST_ADMIN_DATABASE_URL = process.env.DATABASE_URL;
    return;
  }
  const server = await startEmbeddedPostgres();
  globalThis.__embeddedPostgres = server;
  process.env.TEST_ADMIN_DATABASE_URL = server.adminUrl;
}
