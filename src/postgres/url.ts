import { ConfigurationError } from '../common/errors.js';

// The one parser of PostgreSQL connection URLs. Its result feeds pg field by field (see
// connection.ts): pg applies a `connectionString` after every other option, so a URL handed to
// it whole would override the TLS settings and the IAM password function built here.

/** How the URL asks for TLS (libpq's sslmode, plus pg's `no-verify`). */
export type SslMode = 'disable' | 'no-verify' | 'require' | 'verify-ca' | 'verify-full';

export const SSL_MODES: readonly string[] = [
  'disable',
  'no-verify',
  'require',
  'verify-ca',
  'verify-full',
] satisfies SslMode[];

/** A database URL taken apart: every field pg needs, decoded. */
export interface DatabaseUrl {
  host: string;
  port: number;
  user: string;
  /** Undefined when the URL has none (IAM authentication, or a password pg finds elsewhere). */
  password?: string;
  database: string;
  /** Undefined when the URL says nothing about TLS. */
  sslMode?: SslMode;
  /** `sslrootcert`: a PEM file of CAs to trust, besides the built-in ones. */
  sslRootCert?: string;
  /** `options`: command-line options sent at startup (`-c default_transaction_read_only=on`). */
  options?: string;
  applicationName?: string;
  /** `connect_timeout`, in seconds (0: wait as long as the network does). */
  connectTimeoutSeconds?: number;
}

/** The URL parameters understood; any other is refused rather than silently ignored. */
export const URL_PARAMETERS = [
  'sslmode',
  'ssl',
  'sslrootcert',
  'options',
  'application_name',
  'connect_timeout',
] as const;

const HOW_TO_ENCODE =
  'Percent-encode the user name and the password: @ as %40, / as %2F, % as %25, # as %23, ? as %3F, : as %3A ' +
  "(encodeURIComponent in JavaScript, urllib.parse.quote(value, safe='') in Python), " +
  'as in postgres://app:p%40ss%2Fw%25rd%23x@db.example.com:5432/app?sslmode=verify-full.';

/**
 * Parses a postgres:// URL, refusing any it cannot read one way only. Errors never quote the
 * URL: its user-info holds the password, and a URL split at the wrong `@` would show it.
 */
export function parseDatabaseUrl(text: string, input = 'database-url'): DatabaseUrl {
  const problem = ambiguity(text);
  if (problem) {
    throw new ConfigurationError(`Input "${input}" cannot be read unambiguously: ${problem}. ${HOW_TO_ENCODE}`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigurationError(
      `Input "${input}" is not a URL of the form postgres://user:password@host:5432/database. ${HOW_TO_ENCODE}`,
    );
  }
  if (!url.hostname) {
    throw new ConfigurationError(`Input "${input}" names no host: write postgres://user:password@host:5432/database.`);
  }
  if (!url.username) {
    throw new ConfigurationError(`Input "${input}" names no user: write postgres://user:password@host:5432/database.`);
  }
  const user = decodeURIComponent(url.username);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : 5432,
    user,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || user,
    ...parameters(url.searchParams, input),
  };
}

/** Why a URL could be read two ways; undefined when it cannot. Quotes nothing of it. */
function ambiguity(text: string): string | undefined {
  if (!/^postgres(ql)?:\/\//i.test(text)) return 'it must start with postgres:// or postgresql://';
  const rest = text.slice(text.indexOf('://') + 3);
  const beforeQuery = rest.split('?')[0];
  const ats = beforeQuery.split('@').length - 1;
  if (ats === 0 && rest.includes('@'))
    return 'it has an "@" only after the "?", so the user-info would run into the parameters (a "?" in the password)';
  if (ats > 1) return `it has ${ats} "@" before the host, where only one may separate the user-info from the host`;
  if (text.includes('#')) return 'it has a "#", which ends a URL: whatever follows it would be dropped';
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) return 'it has a "%" that is not followed by two hexadecimal digits';
  const authorityEnd = beforeQuery.indexOf('/');
  if (ats === 1 && authorityEnd >= 0 && authorityEnd < beforeQuery.indexOf('@')) {
    return 'it has a "/" before the "@" that separates the user-info from the host';
  }
  return undefined;
}

function parameters(search: URLSearchParams, input: string): Omit<DatabaseUrl, 'host' | 'port' | 'user' | 'database'> {
  const result: ReturnType<typeof parameters> = {};
  const seen = new Set<string>();
  for (const [name, value] of search) {
    if (seen.has(name)) throw new ConfigurationError(`Input "${input}" gives the URL parameter "${name}" twice.`);
    seen.add(name);
    switch (name) {
      case 'sslmode':
        result.sslMode = sslMode(value, input);
        break;
      case 'ssl':
        result.sslMode = pgSsl(value, input);
        break;
      case 'sslrootcert':
        result.sslRootCert = value;
        break;
      case 'options':
        result.options = value;
        break;
      case 'application_name':
        result.applicationName = value;
        break;
      case 'connect_timeout':
        if (!/^\d+$/.test(value))
          throw new ConfigurationError(
            `Input "${input}" has connect_timeout=${JSON.stringify(value)}: it must be a whole number of seconds.`,
          );
        result.connectTimeoutSeconds = Number(value);
        break;
      default:
        throw new ConfigurationError(
          `Input "${input}" has the URL parameter "${name}", which these actions do not use. Valid values are: [${URL_PARAMETERS.join(', ')}].`,
        );
    }
  }
  if (seen.has('ssl') && seen.has('sslmode'))
    throw new ConfigurationError(`Input "${input}" gives both ssl and sslmode: give sslmode only.`);
  return result;
}

function sslMode(value: string, input: string): SslMode {
  if (SSL_MODES.includes(value)) return value as SslMode;
  if (value === 'prefer' || value === 'allow') {
    // libpq's prefer and allow fall back to plain text when TLS fails: whoever sits in the
    // middle decides. A rollback of production does not run on whichever the network picked.
    throw new ConfigurationError(
      `Input "${input}" has sslmode=${value}, which falls back to an unencrypted connection when TLS fails; these actions never downgrade. ` +
        `Use sslmode=verify-full (TLS, certificate and host name verified) or, for a local server without TLS, sslmode=disable.`,
    );
  }
  throw new ConfigurationError(
    `Input "${input}" has sslmode=${JSON.stringify(value)}. Valid values are: [${SSL_MODES.join(', ')}].`,
  );
}

/** pg's own `ssl=true|false` parameter. */
function pgSsl(value: string, input: string): SslMode {
  if (value === 'true' || value === '1') return 'verify-full';
  if (value === 'false' || value === '0') return 'disable';
  if (value === 'no-verify') return 'no-verify';
  throw new ConfigurationError(
    `Input "${input}" has ssl=${JSON.stringify(value)}. Valid values are: [true, false, no-verify]; prefer sslmode.`,
  );
}

/**
 * Names a database as `host:port/database`: no user, no password, no parameter. The one way
 * every log line, summary and record names a target.
 */
export function describeTarget(target: Pick<DatabaseUrl, 'host' | 'port' | 'database'>): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${host}:${target.port}/${target.database}`;
}

/** describeTarget for a URL not parsed yet; a URL that cannot be parsed is named without quoting it. */
export function describeDatabaseUrl(text: string): string {
  try {
    return describeTarget(parseDatabaseUrl(text));
  } catch {
    return '(the database URL, which could not be parsed)';
  }
}

/**
 * What must never reach a log for this URL: the URL, the password in every form a driver
 * may print, and for a URL that cannot be parsed, every piece of what may be its user-info.
 */
export function databaseUrlSecrets(text: string): string[] {
  const secrets = new Set<string>();
  if (!text) return [];
  secrets.add(text);
  const authority = text.replace(/^[a-z]+:\/\//i, '').split('?')[0];
  const at = authority.lastIndexOf('@');
  const userInfo = at < 0 ? '' : authority.slice(0, at);
  // Without a colon the user-info is a user name, which is no secret.
  const colon = userInfo.indexOf(':');
  if (colon >= 0) {
    const password = userInfo.slice(colon + 1);
    for (const secret of [userInfo, password, safeDecode(password), encodeURIComponent(safeDecode(password))])
      secrets.add(secret);
  }
  try {
    const parsed = parseDatabaseUrl(text);
    if (parsed.password) {
      secrets.add(parsed.password);
      secrets.add(encodeURIComponent(parsed.password));
    }
  } catch {
    // Refused URLs are never used; the pieces above cover what the refusal could have echoed.
  }
  return [...secrets].filter((secret) => secret.length >= 3);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
