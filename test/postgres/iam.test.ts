import crypto from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { connectClient, resolveConnection } from '../../src/postgres/connection.js';
import { iamRegion } from '../../src/postgres/iam.js';
import { startPasswordServer, type PasswordServer } from '../fakes/postgres-password-server.js';
import { makeCertificates, type TestCertificates } from '../helpers/certificates.js';

// The token is checked the way RDS checks it: the signature is recomputed from the
// credentials, host, port, user and region, and must match what the client sent.

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
}

class Sha256 {
  private readonly hash: crypto.Hash | crypto.Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret ? crypto.createHmac('sha256', bytes(secret)) : crypto.createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'oidc-session-token-example',
};

interface Token {
  host: string;
  query: Record<string, string>;
}

function parseToken(token: string): Token {
  const [host, query] = token.split('/?');
  return { host, query: Object.fromEntries(new URLSearchParams(query)) };
}

/** The signature RDS would compute for this token from the given facts. */
async function expectedSignature(
  token: Token,
  facts: { host: string; port: number; user: string; region: string; secretAccessKey?: string },
): Promise<string> {
  const date = token.query['X-Amz-Date'].replace(
    /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/,
    '$1-$2-$3T$4:$5:$6Z',
  );
  const signer = new SignatureV4({
    service: 'rds-db',
    region: facts.region,
    credentials: { ...credentials, secretAccessKey: facts.secretAccessKey ?? credentials.secretAccessKey },
    sha256: Sha256,
  });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: facts.host,
      port: facts.port,
      path: '/',
      query: { Action: 'connect', DBUser: facts.user },
      headers: { host: `${facts.host}:${facts.port}` },
    },
    { signingDate: new Date(date), expiresIn: 900 },
  );
  return String(presigned.query?.['X-Amz-Signature']);
}

let certificates: TestCertificates;
let server: PasswordServer;
const savedEnv = { ...process.env };

beforeAll(async () => {
  certificates = makeCertificates();
  server = await startPasswordServer({ cert: certificates.serverCert, key: certificates.serverKey });
  // The default provider chain reads these first, as it reads what configure-aws-credentials exports.
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  process.env.AWS_SESSION_TOKEN = credentials.sessionToken;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_REGION;
  delete process.env.AWS_DEFAULT_REGION;
  delete process.env.AWS_PROFILE;
});

afterAll(async () => {
  process.env = savedEnv;
  await server?.close();
  certificates?.remove();
});

describe('iam-auth', () => {
  it('sends a token signed for the host, port, user and region, a new one for every connection, over TLS', async () => {
    const tokens: string[] = [];
    const connection = resolveConnection({
      url: `postgres://iam_user@127.0.0.1:${server.port}/orders`,
      sslCa: certificates.caPem,
      iamAuth: true,
      awsRegion: 'eu-west-1',
      onSecret: (token) => tokens.push(token),
    });
    expect(connection.tls).toBe('verified');
    for (let i = 0; i < 2; i++) await (await connectClient(connection)).end();

    expect(server.logins).toHaveLength(2);
    expect(tokens).toHaveLength(2);
    expect(server.logins.map((login) => login.password)).toEqual(tokens);
    for (const login of server.logins) {
      expect(login).toMatchObject({ user: 'iam_user', database: 'orders', encrypted: true });
      const token = parseToken(login.password);
      expect(token.host).toBe(`127.0.0.1:${server.port}`);
      expect(token.query).toMatchObject({
        Action: 'connect',
        DBUser: 'iam_user',
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Expires': '900',
        'X-Amz-SignedHeaders': 'host',
        'X-Amz-Security-Token': credentials.sessionToken,
      });
      expect(token.query['X-Amz-Credential']).toMatch(
        new RegExp(`^${credentials.accessKeyId}/\\d{8}/eu-west-1/rds-db/aws4_request$`),
      );
      const facts = { host: '127.0.0.1', port: server.port, user: 'iam_user', region: 'eu-west-1' };
      expect(await expectedSignature(token, facts)).toBe(token.query['X-Amz-Signature']);
      // The check can fail: any other fact gives another signature.
      for (const other of [
        { user: 'other_user' },
        { region: 'us-east-1' },
        { port: server.port + 1 },
        { host: '127.0.0.2' },
        { secretAccessKey: 'not-the-key' },
      ]) {
        expect(await expectedSignature(token, { ...facts, ...other })).not.toBe(token.query['X-Amz-Signature']);
      }
    }
  });

  it('takes the region from aws-region, then AWS_REGION, then the RDS endpoint', () => {
    const host = 'orders.abc123.eu-central-1.rds.amazonaws.com';
    expect(iamRegion({ host, region: 'us-west-2', env: { AWS_REGION: 'eu-west-1' } })).toBe('us-west-2');
    expect(iamRegion({ host, env: { AWS_REGION: 'eu-west-1' } })).toBe('eu-west-1');
    expect(iamRegion({ host, env: {} })).toBe('eu-central-1');
    expect(() => iamRegion({ host: 'db.internal', env: {} })).toThrow(/give input "aws-region"/);
  });

  it('refuses a URL that also carries a password', () => {
    expect(() =>
      resolveConnection({ url: 'postgres://u:pw@db.internal/d', iamAuth: true, awsRegion: 'eu-west-1' }),
    ).toThrow(/remove the password from the URL/);
  });
});
