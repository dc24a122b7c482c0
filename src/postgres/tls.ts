import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { ConfigurationError } from '../common/errors.js';
import { rdsCertificates } from './rds-certificates.js';
import type { SslMode } from './url.js';

/** What a connection's TLS amounts to, for the log and for error messages. */
export type TlsLevel = 'off' | 'unverified' | 'verified';

export interface TlsSettings {
  level: TlsLevel;
  /** pg's `ssl`: false, or the options handed to tls.connect. */
  ssl: false | tls.ConnectionOptions;
  /** Said once by the action (no-verify). */
  warnings: string[];
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads `ssl-ca`: PEM text (one or more certificates) or the path of a PEM file. Every
 * certificate is parsed here, so a truncated secret fails now, naming the input, and not as
 * an unknown CA at connect time.
 */
export function readCertificates(value: string, input: string): string[] {
  const fromText = value.includes('-----BEGIN');
  let text = value;
  if (!fromText) {
    try {
      text = fs.readFileSync(value, 'utf8');
    } catch (error) {
      throw new ConfigurationError(
        `${input} is neither PEM text (-----BEGIN CERTIFICATE----- ...) nor a readable file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}): give the CA certificate(s) as PEM text, e.g. from a secret, or the path of a PEM file.`,
      );
    }
  }
  const pems = text.match(PEM_CERTIFICATE) ?? [];
  const where = fromText ? `${input} (PEM text)` : `${input} (file ${value})`;
  if (pems.length === 0)
    throw new ConfigurationError(
      `${where} holds no -----BEGIN CERTIFICATE----- block: give the CA's PEM certificate(s).`,
    );
  pems.forEach((pem, index) => {
    try {
      new X509Certificate(pem);
    } catch {
      throw new ConfigurationError(
        `${where}: certificate ${index + 1} of ${pems.length} cannot be read. Paste each certificate whole, BEGIN and END lines included.`,
      );
    }
  });
  return pems;
}

export interface TlsRequest {
  /** The URL's sslmode, undefined when it gives none. */
  sslMode?: SslMode;
  /** The URL's sslrootcert (a file path; `system` means the built-in roots only). */
  sslRootCert?: string;
  /** The `ssl-ca` input: PEM text or a path. */
  sslCa?: string;
  /** IAM authentication sends a token that must not travel in the clear. */
  iamAuth?: boolean;
  input: string;
}

/**
 * The TLS a connection uses. Every verifying mode checks the certificate against Node's
 * roots, Amazon's RDS CAs and the CAs given, and the host name (or IP) against the
 * certificate: stricter than libpq's `require`, which checks neither. A CA given (ssl-ca, or
 * the URL's sslrootcert, which libpq users read as "verify against this") or an IAM token
 * means verified TLS: without sslmode the CA would otherwise be ignored over plain text.
 */
export function tlsSettings(request: TlsRequest): TlsSettings {
  const wantsVerified = Boolean(request.sslCa || request.sslRootCert || request.iamAuth);
  const mode = request.sslMode ?? (wantsVerified ? 'verify-full' : 'disable');
  if (mode === 'disable' || mode === 'no-verify') refuseUnverified(request, mode);
  if (mode === 'disable') return { level: 'off', ssl: false, warnings: [] };
  if (mode === 'no-verify') {
    return {
      level: 'unverified',
      ssl: { rejectUnauthorized: false },
      warnings: [
        `"${request.input}" has sslmode=no-verify: the connection is encrypted but the server's certificate is NOT verified, so anyone on the network path can pose as the database. Use sslmode=verify-full (RDS's CAs are trusted by default; others through "ssl-ca").`,
      ],
    };
  }
  const ca = [
    ...tls.rootCertificates,
    ...rdsCertificates(),
    ...(request.sslRootCert && request.sslRootCert !== 'system'
      ? readCertificates(request.sslRootCert, `sslrootcert in "${request.input}"`)
      : []),
    ...(request.sslCa ? readCertificates(request.sslCa, 'Input "ssl-ca"') : []),
  ];
  return { level: 'verified', ssl: { rejectUnauthorized: true, ca }, warnings: [] };
}

/** A CA or an IAM token given with a mode that would not verify (or not encrypt): refused, never ignored. */
function refuseUnverified(request: TlsRequest, mode: 'disable' | 'no-verify'): void {
  if (request.sslCa)
    throw new ConfigurationError(
      `Input "ssl-ca" asks for a verified connection, but "${request.input}" has sslmode=${mode}. Remove sslmode (ssl-ca implies verify-full) or set sslmode=verify-full.`,
    );
  if (request.sslRootCert)
    throw new ConfigurationError(
      `The URL parameter sslrootcert in "${request.input}" asks for a verified connection, but it also has sslmode=${mode}, which would ignore that CA. Remove sslmode (sslrootcert implies verify-full) or set sslmode=verify-full.`,
    );
  if (request.iamAuth && mode === 'disable')
    throw new ConfigurationError(
      `Input "iam-auth" needs TLS (RDS refuses IAM tokens over plain connections), but "${request.input}" has sslmode=disable. Use sslmode=verify-full.`,
    );
}
