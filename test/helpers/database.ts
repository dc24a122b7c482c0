import crypto from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

/** A database of its own for one test file, on the run's shared server. */
export interface TestDatabase {
  name: string;
  /** Connection URL of this database (includes the password: never print it). */
  url: string;
  /** A Knex instance on this database; destroyed by drop(). */
  knex(): Knex;
  /** Runs one SQL query on this database and returns its rows. */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (!url)
    throw new Error('TEST_ADMIN_DATABASE_URL is not set: run the tests through jest (globalSetup starts PostgreSQL)');
  return url;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function adminQuery(
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await client.query<Record<string, unknown>>(sql, params);
  } finally {
    await client.end();
  }
}

export async function createDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `t_${label
    .replace(/[^a-z0-9_]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${crypto.randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = withDatabase(adminUrl(), name);
  const instances: Knex[] = [];
  return {
    name,
    url,
    knex() {
      const instance = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 4 } });
      instances.push(instance);
      return instance;
    },
    async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<T>(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async drop() {
      await Promise.all(instances.map((instance) => instance.destroy()));
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}
