// One PostgreSQL for the whole run: the server at DATABASE_URL when set, else an
// embedded one. Each test file then creates its own database on it (test/helpers/database.ts).
import { startEmbeddedPostgres } from '../support/embedded-postgres.js';

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.TEST_ADMIN_DATABASE_URL = process.env.DATABASE_URL;
    return;
  }
  const server = await startEmbeddedPostgres();
  globalThis.__embeddedPostgres = server;
  process.env.TEST_ADMIN_DATABASE_URL = server.adminUrl;
}
