import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The small core the HTTP fakes share: records every request, and answers from a queue of
 * injected faults (429 with Retry-After, 5xx, a dropped connection) before the real handler.
 * No jest here: the demo and the benchmarks import the fakes too.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
  at: number;
}

export interface Fault {
  status?: number;
  /** Sent as the Retry-After header, verbatim (seconds or an HTTP date). */
  retryAfter?: string;
  body?: string;
  /** Destroy the socket instead of answering. */
  drop?: boolean;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

export interface HttpFake {
  url: string;
  requests: RecordedRequest[];
  /** Answer the next requests with these faults, in order, before the handler sees them. */
  fail(...faults: Fault[]): void;
  close(): Promise<void>;
}

export async function startHttpFake(handler: Handler): Promise<HttpFake> {
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const server = http.createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const request: RecordedRequest = {
        method: incoming.method ?? 'GET',
        path: incoming.url ?? '/',
        headers: incoming.headers,
        body,
        json,
        at: Date.now(),
      };
      requests.push(request);
      const fault = faults.shift();
      if (fault) {
        if (fault.drop) {
          incoming.socket.destroy();
          return;
        }
        const headers: Record<string, string> = { 'content-type': 'text/plain' };
        if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
        response.writeHead(fault.status ?? 500, headers);
        response.end(fault.body ?? 'injected fault');
        return;
      }
      void Promise.resolve()
        .then(() => handler(request))
        .then((reply) => {
          const isText = typeof reply.body === 'string';
          response.writeHead(reply.status, {
            'content-type': isText ? 'text/plain' : 'application/json',
            ...reply.headers,
          });
          response.end(reply.body === undefined ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body));
        })
        .catch((error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(`fake failed: ${error instanceof Error ? error.message : String(error)}`);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail: (...list: Fault[]) => faults.push(...list),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
