import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

/**
 * A stand-in for the Ticket Service itself, for the demo: /health/ready answers from
 * the live schema, so a rollback that left the database in a shape this version of
 * the service cannot use shows up as a failing health check, as it would in production.
 */
export interface TicketServiceApp {
  url: string;
  close(): Promise<void>;
}

export interface TicketServiceOptions {
  databaseUrl: string;
  /** Tables this version of the service reads; missing ones make it unready. */
  requiredTables: string[];
  schema?: string;
}

export async function startTicketService(options: TicketServiceOptions): Promise<TicketServiceApp> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  const schema = options.schema ?? 'public';
  const server = http.createServer((request, response) => {
    void handle(request.url ?? '/').then(([status, body]) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
  });

  async function handle(path: string): Promise<[number, unknown]> {
    if (path === '/health/live') return [200, { status: 'ok' }];
    if (path !== '/health/ready') return [404, { error: 'not found' }];
    try {
      const { rows } = await pool.query<{ tablename: string }>(
        'SELECT tablename FROM pg_tables WHERE schemaname = $1',
        [schema],
      );
      const present = new Set(rows.map((row) => row.tablename));
      const missing = options.requiredTables.filter((table) => !present.has(table));
      if (missing.length) return [503, { status: 'unready', missing }];
      return [200, { status: 'ok', tables: options.requiredTables.length }];
    } catch (error) {
      return [503, { status: 'unready', error: error instanceof Error ? error.message : String(error) }];
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}
