import { ConfigurationError, errorMessage, isConfigurationError } from '../common/errors.js';
import { rdsCertificateRegions } from './rds-certificates.js';
import type { TlsLevel } from './tls.js';
import type { DatabaseUrl } from './url.js';

// pg and Node's tls say what failed; these messages add what to do about it. Every failure to
// connect goes through here, so the advice is the same in every action.

/** What the advice needs to know of a connection (connection.ts's PostgresConnection has it all). */
export interface FailedConnection {
  /** `host:port/database`. */
  target: string;
  /** The input the URL came from. */
  input: string;
  url: DatabaseUrl;
  tls: TlsLevel;
  auth: 'password' | 'iam';
}

type ConnectError = Error & { code?: string; host?: string; cert?: { subjectaltname?: string; subject?: object } };

const UNKNOWN_CA = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * A connection failure as the user's to fix: what happened to which target, and what to do.
 * No stack trace: it is a ConfigurationError.
 */
export function explainConnectionError(error: unknown, connection: FailedConnection): ConfigurationError {
  const { input } = connection;
  if (isConfigurationError(error)) return error;
  const cause = (error instanceof AggregateError ? error.errors[0] : error) as ConnectError;
  // Node's own hint (--use-system-ca) is no use on a runner: the advice below replaces it.
  const detail = (errorMessage(cause) || cause?.code || 'connection failed').replace(
    /; if the root CA is installed locally.*$/s,
    '',
  );
  const advice = adviceFor(cause ?? {}, detail, connection, input);
  return new ConfigurationError(
    `Input "${input}": could not connect to ${connection.target}: ${detail}. ${advice} Nothing was changed.`,
  );
}

function adviceFor(
  error: ConnectError,
  detail: string,
  connection: Pick<FailedConnection, 'tls' | 'auth' | 'url'>,
  input: string,
): string {
  const code = error.code ?? '';
  if (/no encryption/i.test(detail) || (code === '28000' && connection.tls === 'off')) {
    return `The server accepts only encrypted connections: add ?sslmode=verify-full to "${input}" (or give "ssl-ca", which implies it).`;
  }
  if (/does not support SSL/i.test(detail)) {
    return `The server does not offer TLS. Connect to a server that does (RDS always does); only for a local server without TLS, use sslmode=disable.`;
  }
  if (UNKNOWN_CA.has(code)) {
    return (
      `The server's certificate is not signed by a CA this action trusts: Node's built-in roots, Amazon's RDS CAs for ${rdsCertificateRegions().length} regions (see the README) and "ssl-ca". ` +
      `Give the CA that signed it in input "ssl-ca" (PEM text, e.g. from a secret, or a file path); for an RDS region outside the bundled set, that is the region's bundle from AWS's RDS certificate page.`
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = error.cert?.subjectaltname ? ` (it names ${error.cert.subjectaltname})` : '';
    return (
      `The host name "${connection.url.host}" is not in the server's certificate${names}. ` +
      `Connect through a name the certificate holds (for RDS, the instance or cluster endpoint, not an IP address or a CNAME of your own).`
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `The server's certificate is not valid now (${code}): rotate it (for RDS, modify the instance to a current CA).`;
  }
  if (code === '28P01' || code === '28000') {
    return connection.auth === 'iam'
      ? `With iam-auth the user needs GRANT rds_iam TO "${connection.url.user}", and the job's AWS role rds-db:connect on this user (see "Connecting to RDS" in the README).`
      : `Check the user and password in "${input}" (a password with @ / % # ? : must be percent-encoded).`;
  }
  if (code === '3D000') return `The database does not exist: check the path of "${input}".`;
  if (UNREACHABLE.has(code) || /timeout|terminated unexpectedly/i.test(detail)) {
    return `The runner cannot reach ${connection.url.host}:${connection.url.port}: an RDS database in a private subnet needs a self-hosted runner in its VPC (runs-on) and a security group that admits it.`;
  }
  return `Check "${input}", the network path from the runner and the credentials.`;
}
