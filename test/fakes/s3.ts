import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small S3: PutObject and GetObject, path-style (http://host/bucket/key), answering errors in
 * S3's XML shape. It checks that requests are SigV4-signed with the expected access key (not the
 * signature itself) and decodes `aws-chunked` bodies, which the SDK sends for streamed uploads.
 */

export interface S3Object {
  body: Buffer;
  contentType?: string;
}

export interface S3Fake {
  url: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Objects by "bucket/key". */
  objects: Map<string, S3Object>;
  requests: Array<{ method: string; path: string; headers: http.IncomingHttpHeaders }>;
  /** Answer the next requests with these S3 error codes and statuses. */
  fail(...faults: Array<{ status: number; code: string }>): void;
  close(): Promise<void>;
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fake</RequestId></Error>`;
}

/** Decodes aws-chunked: "<hex size>;chunk-signature=...\r\n<data>\r\n" ... "0\r\n" [trailers]. */
function decodeChunked(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < raw.length) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1').split(';')[0], 16);
    if (!size) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

export async function startS3(
  options: { buckets?: string[]; accessKeyId?: string; secretAccessKey?: string } = {},
): Promise<S3Fake> {
  const buckets = new Set(options.buckets ?? ['audit-records']);
  const accessKeyId = options.accessKeyId ?? 'AKIAFAKEFAKEFAKE0000';
  const secretAccessKey = options.secretAccessKey ?? 'fakeSecretKey/0123456789abcdefghijklmnop';
  const objects = new Map<string, S3Object>();
  const requests: S3Fake['requests'] = [];
  const faults: Array<{ status: number; code: string }> = [];

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      requests.push({ method: request.method ?? 'GET', path: url.pathname, headers: request.headers });
      const reply = (status: number, body = '', headers: Record<string, string> = {}) => {
        response.writeHead(status, {
          'x-amz-request-id': 'fake',
          ...(body ? { 'content-type': 'application/xml' } : {}),
          ...headers,
        });
        response.end(body);
      };
      const fault = faults.shift();
      if (fault) return reply(fault.status, errorXml(fault.code, 'injected fault'));
      const auth = String(request.headers.authorization ?? '');
      if (!auth.startsWith(`AWS4-HMAC-SHA256 Credential=${accessKeyId}/`))
        return reply(
          403,
          errorXml('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'),
        );
      const [, bucket, ...keyParts] = url.pathname.split('/');
      const key = keyParts.map(decodeURIComponent).join('/');
      if (!bucket || !buckets.has(bucket))
        return reply(404, errorXml('NoSuchBucket', 'The specified bucket does not exist'));
      if (!key) return reply(400, errorXml('InvalidRequest', 'path-style request without a key'));
      if (request.method === 'PUT') {
        const raw = Buffer.concat(chunks);
        const chunked =
          String(request.headers['content-encoding'] ?? '').includes('aws-chunked') ||
          request.headers['x-amz-decoded-content-length'] !== undefined;
        const body = chunked ? decodeChunked(raw) : raw;
        objects.set(`${bucket}/${key}`, { body, contentType: request.headers['content-type'] });
        return reply(200, '', { etag: '"fake-etag"' });
      }
      if (request.method === 'GET') {
        const object = objects.get(`${bucket}/${key}`);
        if (!object) return reply(404, errorXml('NoSuchKey', 'The specified key does not exist.'));
        response.writeHead(200, { 'content-type': object.contentType ?? 'application/octet-stream' });
        return response.end(object.body);
      }
      return reply(405, errorXml('MethodNotAllowed', 'The specified method is not allowed against this resource.'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accessKeyId,
    secretAccessKey,
    objects,
    requests,
    fail: (...list) => faults.push(...list),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
