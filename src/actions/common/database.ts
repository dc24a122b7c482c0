import * as core from '@actions/core';
import { resolveConnection, type ConnectionSecurity, type PostgresConnection } from '../../postgres/connection.js';
import { databaseUrlSecrets } from '../../postgres/url.js';
import { getBoolean, getSecret, getString } from './inputs.js';

// The database inputs every action that connects shares: database-url, ssl-ca, and where the
// action allows it, iam-auth and aws-region. Read and checked before anything connects.

export const DatabaseInputs = {
  DatabaseUrl: 'database-url',
  SslCa: 'ssl-ca',
  IamAuth: 'iam-auth',
  AwsRegion: 'aws-region',
} as const;

export interface DatabaseInput {
  /** The URL (a secret: it and its password are masked before anything else is read). */
  databaseUrl: string;
  /** ssl-ca, iam-auth, aws-region as given. */
  security: ConnectionSecurity;
  /** The parsed connection: its target names the database in messages. */
  connection: PostgresConnection;
}

interface DatabaseInputOptions {
  required: boolean;
  iam: boolean;
  addSecrets: (...secrets: string[]) => void;
}

/**
 * Reads database-url and the TLS and authentication inputs. `secrets` receives what must be
 * masked; `iam: false` for an action that never authenticates with IAM (verify-reversible's
 * scratch server). Undefined when the URL is optional and not given.
 */
export function getDatabaseInput(options: DatabaseInputOptions & { required: true }): DatabaseInput;
export function getDatabaseInput(options: DatabaseInputOptions): DatabaseInput | undefined;
export function getDatabaseInput(options: DatabaseInputOptions): DatabaseInput | undefined {
  const databaseUrl = getSecret(DatabaseInputs.DatabaseUrl, { required: options.required });
  if (databaseUrl === undefined) return undefined;
  options.addSecrets(...databaseUrlSecrets(databaseUrl));
  const security: ConnectionSecurity = {
    sslCa: getString(DatabaseInputs.SslCa),
    ...(options.iam
      ? { iamAuth: getBoolean(DatabaseInputs.IamAuth, false), awsRegion: getString(DatabaseInputs.AwsRegion) }
      : {}),
  };
  const connection = resolveConnection({ ...security, url: databaseUrl, input: DatabaseInputs.DatabaseUrl });
  return { databaseUrl, security, connection };
}

/** One line naming the database and how it is reached, and the warning a weak TLS setting earns. */
export function logDatabase(connection: PostgresConnection): void {
  const tls = { off: 'no TLS', unverified: 'TLS, certificate NOT verified', verified: 'TLS, certificate verified' }[
    connection.tls
  ];
  core.info(
    `Database: ${connection.target} (${tls}; ${connection.auth === 'iam' ? 'IAM authentication' : 'password'}).`,
  );
  for (const warning of connection.warnings) core.warning(warning);
}
