import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Logger } from '../common/logger.js';
import { postgresConfig } from '../postgres/connection.js';
import type { QueryObserver } from './query-observer.js';
import { captureSchema, type CaptureOptions, type SchemaSnapshot } from './schema-capture.js';
import type { ScratchDatabase } from './scratch-database.js';

/** A Knex instance and a catalog connection on one scratch database. */
export class Session {
  private constructor(
    readonly database: ScratchDatabase,
    readonly knex: Knex,
    private readonly catalog: pg.Client,
    private readonly detach: () => void,
  ) {}

  static async open(database: ScratchDatabase, observer: QueryObserver, logger: Logger): Promise<Session> {
    const connection = () => postgresConfig({ url: database.url, sslCa: database.security?.sslCa });
    const knex = knexFactory({
      client: 'pg',
      connection: connection(),
      pool: { min: 0, max: 4 },
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
    } catch (error) {
      await knex.destroy();
      throw error;
    }
    return new Session(database, knex, catalog, observer.attach(knex));
  }

  captureSchema(options: CaptureOptions): Promise<SchemaSnapshot> {
    return captureSchema(this.catalog, options);
  }

  async close(): Promise<void> {
    this.detach();
    await Promise.allSettled([this.knex.destroy(), this.catalog.end()]);
  }
}
