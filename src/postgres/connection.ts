import pg from 'pg';
import { ConfigurationError } from '../common/errors.js';
import { explainConnectionError } from './connection-errors.js';
import { iamAuthPassword, type IamAuthRequest } from './iam.js';
import { tlsSettings, type TlsLevel } from './tls.js';
import { describeTarget, parseDatabaseUrl, type DatabaseUrl } from './url.js';

// Every connection the actions open is configured here: the URL parsed once, TLS and the
// password decided once, and pg given separate fields. Never `connectionString`: pg applies a
// parsed connection string after everything else, so its sslmode would replace the `ssl`
// object and its (empty) password would replace the IAM password function.

/** What the user gave to reach a database. */
export interface ConnectionRequest {
  /** The postgres:// URL (a secret). */
  url: string;
  /** `ssl-ca`: PEM text or a path; implies verify-full. */
  sslCa?: string;
  /** `iam-auth`: the password is an RDS IAM token. */
  iamAuth?: boolean;
  /** `aws-region`, for the IAM token. */
  awsRegion?: string;
  /** Called with every secret made while connecting (IAM tokens), for masking. */
  onSecret?: (secret: string) => void;
  /** The input the URL came from, for messages. */
  input?: string;
  /** For tests: the credentials the IAM token is signed with, and the environment read. */
  iamCredentials?: IamAuthRequest['credentials'];
  env?: NodeJS.ProcessEnv;
}

/** The TLS and authentication settings without the URL (an action's `ssl-ca`, `iam-auth`, `aws-region`). */
export type ConnectionSecurity = Omit<ConnectionRequest, 'url' | 'input'>;

/** A database the actions can connect to. */
export interface PostgresConnection {
  /** `host:port/database`, the name used in every message. */
  target: string;
  /** The input the URL came from (`database-url`). */
  input: string;
  url: DatabaseUrl;
  tls: TlsLevel;
  auth: 'password' | 'iam';
  /** For the action to log once (sslmode=no-verify). */
  warnings: string[];
  /** pg's client config (and Knex's `connection`). A fresh object for every call. */
  config(defaults?: ConnectionDefaults): PostgresClientConfig;
}

/** The fields handed to pg (and to Knex as its `connection`): never a connectionString. */
export type PostgresClientConfig = Pick<
  pg.ClientConfig,
  | 'host'
  | 'port'
  | 'user'
  | 'password'
  | 'database'
  | 'ssl'
  | 'options'
  | 'application_name'
  | 'connectionTimeoutMillis'
>;

/** What the caller sets unless the URL says otherwise. */
export interface ConnectionDefaults {
  applicationName?: string;
  connectTimeoutMs?: number;
}

/** Parses and checks everything about a connection before anything connects. */
export function resolveConnection(request: ConnectionRequest): PostgresConnection {
  const input = request.input ?? 'database-url';
  const url = parseDatabaseUrl(request.url, input);
  if (request.iamAuth && url.password !== undefined)
    throw new ConfigurationError(
      `Input "iam-auth" is true, but "${input}" also has a password: remove the password from the URL (the password is the IAM token).`,
    );
  const tls = tlsSettings({
    sslMode: url.sslMode,
    sslRootCert: url.sslRootCert,
    sslCa: request.sslCa,
    iamAuth: request.iamAuth,
    input,
  });
  const password = request.iamAuth
    ? iamAuthPassword({
        host: url.host,
        port: url.port,
        user: url.user,
        region: request.awsRegion,
        onToken: request.onSecret,
        credentials: request.iamCredentials,
        env: request.env,
      })
    : url.password;
  return {
    target: describeTarget(url),
    input,
    url,
    tls: tls.level,
    auth: request.iamAuth ? 'iam' : 'password',
    warnings: tls.warnings,
    config(defaults = {}) {
      const applicationName = url.applicationName ?? defaults.applicationName;
      const timeoutMs =
        url.connectTimeoutSeconds === undefined ? defaults.connectTimeoutMs : url.connectTimeoutSeconds * 1000;
      return {
        host: url.host,
        port: url.port,
        user: url.user,
        password,
        database: url.database,
        // An explicit false: left undefined, pg would read PGSSLMODE from the environment.
        ssl: tls.ssl === false ? false : { ...tls.ssl },
        ...(url.options === undefined ? {} : { options: url.options }),
        ...(applicationName === undefined ? {} : { application_name: applicationName.slice(0, 63) }),
        ...(timeoutMs ? { connectionTimeoutMillis: timeoutMs } : {}),
      };
    },
  };
}

/** pg's client config for a request: the one call a module that builds a Knex or pg client makes. */
export function postgresConfig(request: ConnectionRequest, defaults?: ConnectionDefaults): PostgresClientConfig {
  return resolveConnection(request).config(defaults);
}

/** A connected pg client; a failure is a ConfigurationError that says what to do. */
export async function connectClient(connection: PostgresConnection, defaults?: ConnectionDefaults): Promise<pg.Client> {
  const client = new pg.Client(connection.config(defaults));
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw explainConnectionError(error, connection);
  }
}

/** A connection failure explained (see connection-errors.ts), for callers that hold only the request. */
export function connectionFailure(error: unknown, request: ConnectionRequest): ConfigurationError {
  return explainConnectionError(error, resolveConnection({ ...request, onSecret: undefined }));
}

/** The same server, another database on it (the scratch databases of verify-reversible). */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
