import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { connectClient, resolveConnection, type ConnectionRequest } from '../../src/postgres/connection.js';
import { databaseUrlSecrets } from '../../src/postgres/url.js';
import { startEmbeddedPostgres } from '../support/embedded-postgres.js';
import { makeCertificates, type TestCertificates } from '../helpers/certificates.js';

// A TLS-only PostgreSQL (hostnossl ... reject, as RDS with rds.force_ssl = 1) whose certificate
// a private CA signed, for IP:127.0.0.1 only. It also listens on 127.0.0.2, an address the
// certificate does not name.

let certificates: TestCertificates;
let server: Awaited<ReturnType<typeof startEmbeddedPostgres>>;
let base: string;

beforeAll(async () => {
  certificates = makeCertificates();
  server = await startEmbeddedPostgres({
    tls: { cert: certificates.serverCert, key: certificates.serverKey },
    listen: ['127.0.0.1', '127.0.0.2'],
  });
  base = server.adminUrl;
});

afterAll(async () => {
  await server?.stop();
  certificates?.remove();
});

function url(parameters = '', host = '127.0.0.1'): string {
  const parsed = new URL(base);
  parsed.hostname = host;
  return `${parsed.toString()}${parameters}`;
}

/** Connects, reads whether the session is encrypted, disconnects. */
async function sessionSsl(request: ConnectionRequest): Promise<{ ssl: boolean; readOnly: string; app: string }> {
  const client: pg.Client = await connectClient(resolveConnection(request));
  try {
    const { rows } = await client.query<{ ssl: boolean; read_only: string; app: string }>(
      `SELECT ssl, current_setting('default_transaction_read_only') AS read_only, current_setting('application_name') AS app
       FROM pg_stat_ssl WHERE pid = pg_backend_pid()`,
    );
    return { ssl: rows[0].ssl, readOnly: rows[0].read_only, app: rows[0].app };
  } finally {
    await client.end();
  }
}

async function failure(request: ConnectionRequest): Promise<Error> {
  try {
    await sessionSsl(request);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the connection to fail');
}

describe('a TLS-only server signed by a private CA', () => {
  it('connects verified with ssl-ca given as PEM text, without sslmode in the URL', async () => {
    const connection = resolveConnection({ url: url(), sslCa: certificates.caPem });
    expect(connection.tls).toBe('verified');
    expect((await sessionSsl({ url: url(), sslCa: certificates.caPem })).ssl).toBe(true);
  });

  it('connects with ssl-ca given as a path, and with several certificates in it', async () => {
    const bundle = path.join(certificates.dir, 'bundle.pem');
    fs.writeFileSync(bundle, `${certificates.otherCaPem}\n${certificates.caPem}`);
    expect((await sessionSsl({ url: url('?sslmode=verify-full'), sslCa: certificates.caFile })).ssl).toBe(true);
    expect((await sessionSsl({ url: url(), sslCa: bundle })).ssl).toBe(true);
  });

  it("honours the URL's sslrootcert, options and application_name", async () => {
    const parameters = `?sslmode=verify-ca&sslrootcert=${encodeURIComponent(certificates.caFile)}&options=${encodeURIComponent('-c default_transaction_read_only=on')}&application_name=tls-test`;
    expect(await sessionSsl({ url: url(parameters) })).toEqual({ ssl: true, readOnly: 'on', app: 'tls-test' });
  });

  it("connects verified with the URL's sslrootcert and no sslmode, as libpq users expect", async () => {
    const parameters = `?sslrootcert=${encodeURIComponent(certificates.caFile)}`;
    expect(resolveConnection({ url: url(parameters) }).tls).toBe('verified');
    expect((await sessionSsl({ url: url(parameters) })).ssl).toBe(true);
    // The CA it names is the one that verifies: another CA there is refused, not ignored.
    const other = path.join(certificates.dir, 'other-ca.pem');
    fs.writeFileSync(other, certificates.otherCaPem);
    const error = await failure({ url: url(`?sslrootcert=${encodeURIComponent(other)}`) });
    expect(error.message).toMatch(/not signed by a CA this action trusts/);
  });

  it('refuses verify-full without ssl-ca, naming ssl-ca and the RDS bundle', async () => {
    const error = await failure({ url: url('?sslmode=verify-full') });
    expect(error.name).toBe('ConfigurationError');
    expect(error.message).toContain('could not connect to 127.0.0.1:');
    expect(error.message).toMatch(/not signed by a CA this action trusts/);
    expect(error.message).toContain('"ssl-ca"');
    expect(error.message).toMatch(/RDS CAs for \d+ regions/);
    expect(error.message).not.toContain('postgres-test-password');
    expect(error.message).not.toContain('--use-system-ca');
  });

  it('refuses a CA that did not sign the certificate', async () => {
    const error = await failure({ url: url(), sslCa: certificates.otherCaPem });
    expect(error.message).toMatch(/not signed by a CA this action trusts/);
  });

  it('refuses a host name the certificate does not hold (127.0.0.2, certificate for 127.0.0.1)', async () => {
    const error = await failure({ url: url('', '127.0.0.2'), sslCa: certificates.caPem });
    expect(error.message).toContain('could not connect to 127.0.0.2:');
    expect(error.message).toContain('The host name "127.0.0.2" is not in the server\'s certificate');
    expect(error.message).toContain('IP Address:127.0.0.1');
  });

  it('says to add sslmode=verify-full when no sslmode meets a server that demands TLS', async () => {
    const error = await failure({ url: url() });
    expect(error.message).toContain('accepts only encrypted connections');
    expect(error.message).toContain('?sslmode=verify-full');
    expect(error.message).toContain('Nothing was changed.');
  });

  it('connects unverified with sslmode=no-verify, with a warning that says so', async () => {
    const connection = resolveConnection({ url: url('?sslmode=no-verify') });
    expect(connection.tls).toBe('unverified');
    expect(connection.warnings.join('\n')).toMatch(/NOT verified/);
    expect((await sessionSsl({ url: url('?sslmode=no-verify') })).ssl).toBe(true);
  });

  it('requires and verifies the certificate for require too (stricter than libpq)', async () => {
    const error = await failure({ url: url('?sslmode=require') });
    expect(error.message).toMatch(/not signed by a CA this action trusts/);
    expect((await sessionSsl({ url: url('?sslmode=require'), sslCa: certificates.caPem })).ssl).toBe(true);
  });

  it('refuses ssl-ca or iam-auth with sslmode=disable, before connecting', () => {
    expect(() => resolveConnection({ url: url('?sslmode=disable'), sslCa: certificates.caPem })).toThrow(
      /ssl-ca" asks for a verified connection/,
    );
    const withoutPassword = `postgres://postgres@127.0.0.1:${server.port}/postgres?sslmode=disable`;
    expect(() => resolveConnection({ url: withoutPassword, iamAuth: true, awsRegion: 'eu-west-1' })).toThrow(
      /iam-auth" needs TLS/,
    );
  });

  describe('a password with @ / % # in it', () => {
    const password = 'p@ss/w%rd#x';
    beforeAll(async () => {
      const admin = await connectClient(resolveConnection({ url: url(), sslCa: certificates.caPem }));
      await admin.query(`CREATE ROLE odd_password LOGIN PASSWORD '${password}'`);
      await admin.end();
    });

    it('connects when percent-encoded', async () => {
      const encoded = `postgres://odd_password:${encodeURIComponent(password)}@127.0.0.1:${server.port}/postgres`;
      expect((await sessionSsl({ url: encoded, sslCa: certificates.caPem })).ssl).toBe(true);
    });

    it('is refused when pasted unencoded, quoting none of it, with how to encode', () => {
      const pasted = `postgres://odd_password:${password}@127.0.0.1:${server.port}/postgres`;
      let message = '';
      try {
        resolveConnection({ url: pasted, sslCa: certificates.caPem });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('cannot be read unambiguously');
      expect(message).toContain('%40');
      for (const piece of ['p@ss', 'ss/w', 'w%rd', 'rd#x', 'odd_password:']) expect(message).not.toContain(piece);
      // What the action masks for it covers the password as pasted.
      expect(databaseUrlSecrets(pasted)).toContain(password);
    });
  });
});
