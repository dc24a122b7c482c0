import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Logger } from '../common/logger.js';
import type { StatementGuard } from '../migrations/guard.js';
import { postgresConfig } from '../postgres/connection.js';
import type { QueryObserver } from './query-observer.js';
import { captureSchema, type CaptureOptions, type SchemaSnapshot } from './schema-capture.js';
import type { ScratchDatabase } from './scratch-database.js';

/** What every session of a check shares: who watches the statements and builders, where Knex keeps its table. */
export interface SessionWatch {
  /** In observe mode: installed on every connection of the pool, as the rollback installs it on its own. */
  guard: StatementGuard;
  observer: QueryObserver;
  /** Knex's migrations.schemaName: created on the scratch database when it is not public, as production has it. */
  schemaName: string;
  logger: Logger;
}

/** A Knex instance and a catalog connection on one scratch database. */
export class Session {
  private constructor(
    readonly database: ScratchDatabase,
    readonly knex: Knex,
    private readonly catalog: pg.Client,
  ) {}

  static async open(database: ScratchDatabase, watch: SessionWatch): Promise<Session> {
    const { guard, observer, logger } = watch;
    const connection = () => postgresConfig({ url: database.url, sslCa: database.security?.sslCa });
    const knex = knexFactory({
      client: 'pg',
      connection: connection(),
      pool: {
        min: 0,
        max: 4,
        // Every connection a migration can reach is guarded, as the rollback's are (rollback.ts):
        // what it sends on a connection taken from Knex's client is seen too.
        afterCreate(created: pg.Client, done: (error: Error | null, created: pg.Client) => void) {
          guard.install(created);
          done(null, created);
        },
      },
      // Knex warns about failed migrations itself; our report says it better.
      log: {
        warn: (message: string) => logger.debug(String(message)),
        error: (message: string) => logger.debug(String(message)),
        deprecate: (message: string) => logger.debug(String(message)),
        debug: (message: string) => logger.debug(String(message)),
      },
    });
    const catalog = new pg.Client(connection());
    // Cancel drops the database WITH (FORCE), which ends this session: not a crash.
    catalog.on('error', (error) => logger.debug(`catalog connection: ${error.message}`));
    try {
      await catalog.connect();
      // Knex creates its tables in schemaName but not the schema, which production already has.
      if (watch.schemaName !== 'public')
        await catalog.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(watch.schemaName)}`);
    } catch (error) {
      await Promise.allSettled([knex.destroy(), catalog.end()]);
      throw error;
    }
    observer.attach(knex);
    return new Session(database, knex, catalog);
  }

  captureSchema(options: CaptureOptions): Promise<SchemaSnapshot> {
    return captureSchema(this.catalog, options);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.knex.destroy(), this.catalog.end()]);
  }
}
