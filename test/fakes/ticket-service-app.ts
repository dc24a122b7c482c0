import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

/**
 * A stand-in for the Ticket Service itself, for the demo: /health/ready answers from
 * the live schema, so a rollback that left the database in a shape this version of
 * the service cannot use shows up as a failing health check, as it would in production.
 * It keeps the figures a Prometheus would scrape from it (requests by status, latency) and
 * its database connections, for the demo's monitor step.
 */
export interface TicketServiceApp {
  url: string;
  /** What the service served in the last `windowMs`, as the monitor's queries read it. */
  figures(windowMs: number): Promise<ServiceFigures>;
  close(): Promise<void>;
}

export interface ServiceFigures {
  requests: number;
  /** Share of 5xx answers; NaN without traffic (0/0), as PromQL computes it. */
  errorRate: number;
  /** 99th percentile latency in seconds; NaN without traffic. */
  p99Seconds: number;
  /** Sessions open on the service's database (pg_stat_activity), as RDS DatabaseConnections counts them. */
  databaseConnections: number;
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
  const served: Array<{ at: number; status: number; ms: number }> = [];
  const server = http.createServer((request, response) => {
    const started = performance.now();
    void handle(request.url ?? '/').then(([status, body]) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
      served.push({ at: Date.now(), status, ms: performance.now() - started });
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
  async function figures(windowMs: number): Promise<ServiceFigures> {
    const recent = served.filter((entry) => entry.at >= Date.now() - windowMs);
    const errors = recent.filter((entry) => entry.status >= 500).length;
    const latencies = recent.map((entry) => entry.ms / 1000).sort((a, b) => a - b);
    const { rows } = await pool.query<{ count: string }>(
      'SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()',
    );
    return {
      requests: recent.length,
      errorRate: errors / recent.length,
      p99Seconds: latencies.length ? latencies[Math.ceil(latencies.length * 0.99) - 1] : NaN,
      databaseConnections: Number(rows[0].count),
    };
  }

  return {
    url: `http://127.0.0.1:${port}`,
    figures,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}
