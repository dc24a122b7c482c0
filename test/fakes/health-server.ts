import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A service's health endpoints in the states a smoke check meets after a rollback:
 * - /health/ready: 200 {"status":"ok"}
 * - /flapping: 503 for the first `flappingFailures` requests, then 200 {"status":"ok"}
 * - /slow: answers after `slowMs`, longer than the request timeout the tests set
 * - /wrong-body: 200 {"status":"degraded"}
 * - /missing: 404
 * - /rate-limited: 429 for the first `flappingFailures` requests, then 200
 * - /auth: 200 with the `token` as a bearer token, otherwise 401; echoes the header on 401
 * No jest globals: the demo imports it too.
 */
export interface HealthServerOptions {
  flappingFailures?: number;
  slowMs?: number;
  token?: string;
}

export interface HealthServer {
  url: string;
  /** Requests received per path. */
  hits: Record<string, number>;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions = {}): Promise<HealthServer> {
  const failures = options.flappingFailures ?? 2;
  const hits: Record<string, number> = {};
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const count = (hits[path] = (hits[path] ?? 0) + 1);
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    switch (path) {
      case '/health/ready':
        return json(200, { status: 'ok', checks: [{ name: 'database', healthy: true }] });
      case '/flapping':
        return count <= failures
          ? json(503, { status: 'unready', reason: 'connection pool warming up' })
          : json(200, { status: 'ok' });
      case '/rate-limited':
        return count <= failures ? json(429, { error: 'slow down' }) : json(200, { status: 'ok' });
      case '/slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          json(200, { status: 'ok' });
        }, options.slowMs ?? 5000);
        timers.add(timer);
        return;
      }
      case '/wrong-body':
        return json(200, { status: 'degraded', missing: ['idempotency_keys'] });
      case '/auth':
        return request.headers.authorization === `Bearer ${options.token}`
          ? json(200, { status: 'ok' })
          : json(401, { error: 'unauthorized', got: request.headers.authorization ?? null });
      default:
        return json(404, { error: 'not found', path });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
