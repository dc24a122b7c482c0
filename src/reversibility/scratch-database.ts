import crypto from 'node:crypto';
import type pg from 'pg';
import { ConfigurationError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
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

/** The check was cancelled (SIGINT, SIGTERM): nothing more is started, and its databases are dropped. */
export class CheckCancelled extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CheckCancelled';
  }
}

/**
 * Every scratch database one check creates. A name is registered before CREATE DATABASE
 * is sent, so dropAll() cannot miss a database whose creation is still in flight; and once
 * dropAll() has begun, create() refuses, and drops what a CREATE in flight made after all.
 * A cancelled check therefore leaves nothing behind, whichever step it was in.
 */
export class ScratchDatabases {
  private readonly names = new Set<string>();
  /** The server process running each CREATE DATABASE still in flight, so a cancel can interrupt it. */
  private readonly creating = new Map<string, number>();
  private closedBecause: string | undefined;

  constructor(
    private readonly serverUrl: string,
    private readonly logger: Logger,
    private readonly security?: ScratchSecurity,
  ) {}

  async create(): Promise<ScratchDatabase> {
    this.refuseWhenClosed();
    const name = `${SCRATCH_PREFIX}${crypto.randomBytes(6).toString('hex')}`;
    this.names.add(name);
    try {
      await createScratchDatabase(this.serverUrl, this.security, name, (pid) => this.creating.set(name, pid));
    } catch (error) {
      this.refuseWhenClosed();
      throw error;
    } finally {
      this.creating.delete(name);
    }
    if (this.closedBecause !== undefined) {
      await this.drop(name);
      this.refuseWhenClosed();
    }
    return { name, url: scratchUrl(this.serverUrl, name), security: this.security };
  }

  async drop(name: string): Promise<void> {
    await dropScratchDatabase(this.serverUrl, this.security, name);
    this.names.delete(name);
    this.logger.info(`Scratch database ${name} dropped.`);
  }

  /** Refuses every later create() and drops every database created so far; returns those it could not drop. */
  async dropAll(reason = 'the check is over'): Promise<string[]> {
    this.closedBecause ??= reason;
    // A CREATE DATABASE waiting (on a lock, a busy server) would finish after the drop below
    // found nothing to drop: cancel it. One that completes regardless is dropped by create().
    await this.cancelCreates();
    const failed: string[] = [];
    for (const name of [...this.names]) {
      await this.drop(name).catch((error: unknown) => {
        failed.push(name);
        this.logger.warning(`Could not drop scratch database ${name}: ${(error as Error).message}`);
      });
    }
    return failed;
  }

  /** Databases created and not dropped yet (a CREATE in flight included). */
  live(): string[] {
    return [...this.names];
  }

  private async cancelCreates(): Promise<void> {
    const pids = [...this.creating.values()];
    if (pids.length === 0) return;
    await withServer(this.serverUrl, this.security, (client) =>
      client.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [pids]),
    ).catch((error: unknown) =>
      this.logger.warning(`Could not cancel a CREATE DATABASE in flight: ${(error as Error).message}`),
    );
  }

  private refuseWhenClosed(): void {
    if (this.closedBecause !== undefined) throw new CheckCancelled(this.closedBecause);
  }
}

async function createScratchDatabase(
  serverUrl: string,
  security: ScratchSecurity | undefined,
  name: string,
  onStart: (pid: number) => void,
): Promise<void> {
  await withServer(serverUrl, security, async (client) => {
    onStart((client as unknown as { processID: number }).processID);
    try {
      await client.query(`CREATE DATABASE "${name}"`);
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
}

/** Drops a scratch database, ending any session still on it (a migration hung mid-statement). */
async function dropScratchDatabase(
  serverUrl: string,
  security: ScratchSecurity | undefined,
  name: string,
): Promise<void> {
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
}
