import { ConfigurationError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { resolveConnection, type ConnectionSecurity, type PostgresConnection } from '../../postgres/connection.js';
import { databaseUrlSecrets, parseDatabaseUrl } from '../../postgres/url.js';
import type { Secrets } from './action.js';
import { custom, flag, text, type InputSpec } from './inputs.js';

// The database inputs every action that connects declares: database-url, ssl-ca, and where the
// action allows it, iam-auth and aws-region. The runtime masks database-url with every form of
// its password (databaseUrlSecrets, the one way a connection string is masked) before any input
// is parsed; the URL is parsed here with the connection's own parser, so a URL that cannot be
// read unambiguously is the first error, before anything connects.

/** database-url: a secret, checked by the parser the connection uses. */
export function databaseUrlInput(options: { required: true }): InputSpec<string>;
export function databaseUrlInput(options: { required: false }): InputSpec<string | undefined>;
export function databaseUrlInput(options: { required: boolean }): InputSpec<string | undefined> {
  return custom(
    'database-url',
    (value, name) => {
      if (value === undefined) {
        if (options.required) throw new ConfigurationError(`Input "${name}" is required and was not given.`);
        return undefined;
      }
      parseDatabaseUrl(value, name);
      return value;
    },
    { required: options.required, secret: true, derive: databaseUrlSecrets },
  );
}

/** ssl-ca: PEM text or a path; implies verify-full. A CA certificate is public: not masked. */
export const sslCaInput = (): InputSpec<string | undefined> => text('ssl-ca');
/** iam-auth: the password is an RDS IAM token. */
export const iamAuthInput = (): InputSpec<boolean> => flag('iam-auth', false);
/** aws-region: the region the IAM token is signed for. */
export const awsRegionInput = (): InputSpec<string | undefined> => text('aws-region');

/** The parsed database inputs, as the action declared them. */
export interface DatabaseInputs {
  databaseUrl: string;
  sslCa?: string;
  iamAuth?: boolean;
  awsRegion?: string;
}

export interface Database {
  databaseUrl: string;
  /** ssl-ca, iam-auth, aws-region, with every IAM token masked as it is made. */
  security: ConnectionSecurity;
  /** The parsed connection: its target names the database in messages. */
  connection: PostgresConnection;
}

/**
 * Checks the database inputs together (iam-auth with a password, with sslmode=disable) and logs
 * one line naming the database and how it is reached, with the warning a weak TLS setting earns.
 */
export function resolveDatabase(given: DatabaseInputs, runtime: { secrets: Secrets; logger: Logger }): Database {
  const security: ConnectionSecurity = {
    sslCa: given.sslCa,
    iamAuth: given.iamAuth,
    awsRegion: given.awsRegion,
    // IAM tokens are made per connection, later: each is masked as it is made.
    onSecret: (token) => runtime.secrets.add(token),
  };
  const connection = resolveConnection({ ...security, url: given.databaseUrl, input: 'database-url' });
  const tls = { off: 'no TLS', unverified: 'TLS, certificate NOT verified', verified: 'TLS, certificate verified' }[
    connection.tls
  ];
  const auth = connection.auth === 'iam' ? 'IAM authentication' : 'password';
  runtime.logger.info(`Database: ${connection.target} (${tls}; ${auth}).`);
  for (const warning of connection.warnings) runtime.logger.warning(warning);
  return { databaseUrl: given.databaseUrl, security, connection };
}
