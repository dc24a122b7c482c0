import crypto from 'node:crypto';
import type pg from 'pg';
import { ConfigurationError } from '../common/errors.js';
import { connectClient, resolveConnection, type ConnectionSecurity } from '../postgres/connection.js';
import { describeDatabaseUrl } from '../postgres/url.js';

// verify-reversible runs every migration up, down and up again, which is destructive by
// design. It therefore never touches the database named in the URL: it connects there
// only to issue CREATE DATABASE / DROP DATABASE for scratch databases of its own, whose
// names are random so two jobs on one server cannot collide.

/**
 * How to secure connections to the scratch server: TLS only (`ssl-ca`). The scratch server is
 * a disposable one the check creates databases on, never reached with IAM authentication.
 */
export type ScratchSecurity = Pick<ConnectionSecurity, 'sslCa'>;

/** A database this process created and must drop. */
export interface ScratchDatabase {
  name: string;
  /** Connection URL of the scratch database (carries the caller's password). */
  url: string;
  /** The TLS its server needs. */
  security?: ScratchSecurity;
}

/** Every scratch database still alive in this process, so a signal handler can drop them. */
const live = new Map<string, { serverUrl: string; database: ScratchDatabase }>();

export const SCRATCH_PREFIX = 'verify_reversible_';

export function scratchUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withServer<T>(
  serverUrl: string,
  security: ScratchSecurity | undefined,
  body: (client: pg.Client) => Promise<T>,
): Promise<T> {
  // An unreachable server is the caller's to fix: connectClient says which one and what to do.
  const client = await connectClient(resolveConnection({ url: serverUrl, sslCa: security?.sslCa }));
  try {
    return await body(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Checks up front that the role may create databases, so the run fails with the fix
 * instead of half-way through. Superusers and rds_superuser members have CREATEDB.
 */
export async function assertCanCreateDatabases(serverUrl: string, security?: ScratchSecurity): Promise<void> {
  await withServer(serverUrl, security, async (client) => {
    const { rows } = await client.query<{ role: string; allowed: boolean }>(
      'SELECT current_user AS role, (rolcreatedb OR rolsuper) AS allowed FROM pg_roles WHERE rolname = current_user',
    );
    if (rows[0] && !rows[0].allowed) throw missingCreateDb(rows[0].role, serverUrl);
  });
}

function missingCreateDb(role: string, serverUrl: string): ConfigurationError {
  return new ConfigurationError(
    `The role "${role}" cannot create databases on ${describeDatabaseUrl(serverUrl)}: verify-reversible needs the CREATEDB privilege ` +
      `to create its scratch database. Grant it (ALTER ROLE "${role}" CREATEDB) or point "database-url" at a server where the role has it ` +
      `(a postgres service container in the workflow, for example). Nothing was changed.`,
  );
}

/** Creates a scratch database with a random name, optionally as a copy of another one (TEMPLATE). */
export async function createScratchDatabase(
  serverUrl: string,
  options: { template?: string; security?: ScratchSecurity } = {},
): Promise<ScratchDatabase> {
  const name = `${SCRATCH_PREFIX}${crypto.randomBytes(6).toString('hex')}`;
  await withServer(serverUrl, options.security, async (client) => {
    const template = options.template ? ` TEMPLATE "${options.template}"` : '';
    try {
      await client.query(`CREATE DATABASE "${name}"${template}`);
    } catch (error) {
      if ((error as { code?: string }).code === '42501') {
        const { rows } = await client.query<{ role: string }>('SELECT current_user AS role');
        throw missingCreateDb(rows[0]?.role ?? 'unknown', serverUrl);
      }
      throw error;
    }
    // Every transaction still commits, one by one, as in production; only the wait for the
    // WAL flush is skipped. A scratch database need not survive a server crash, and the
    // check commits some ten times per migration, which with fsync would dominate its time.
    await client.query(`ALTER DATABASE "${name}" SET synchronous_commit = off`);
  });
  const database = { name, url: scratchUrl(serverUrl, name), security: options.security };
  live.set(name, { serverUrl, database });
  return database;
}

/** Drops a scratch database, ending any session still on it (a migration hung mid-statement). */
export async function dropScratchDatabase(serverUrl: string, name: string, security?: ScratchSecurity): Promise<void> {
  if (!name.startsWith(SCRATCH_PREFIX))
    throw new Error(`Refusing to drop "${name}": not a scratch database of verify-reversible`);
  await withServer(serverUrl, security, async (client) => {
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } catch (error) {
      // WITH (FORCE) is PostgreSQL 13+; before that, end the sessions ourselves.
      if ((error as { code?: string }).code !== '42601') throw error;
      await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      await client.query(`DROP DATABASE IF EXISTS "${name}"`);
    }
  });
  live.delete(name);
}

/** Drops every scratch database this process still holds: the cancel path (SIGTERM, SIGINT). */
export async function dropLiveScratchDatabases(): Promise<string[]> {
  const dropped: string[] = [];
  for (const [name, { serverUrl, database }] of [...live]) {
    await dropScratchDatabase(serverUrl, name, database.security).then(
      () => dropped.push(name),
      () => undefined,
    );
  }
  return dropped;
}
