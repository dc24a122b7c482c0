import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A private CA and a server certificate it signed, as RDS's are: PEM text and files. */
export interface TestCertificates {
  dir: string;
  caPem: string;
  caFile: string;
  serverCert: string;
  serverKey: string;
  /** Another CA, which signed nothing this server presents. */
  otherCaPem: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '3',
    '-subj',
    `/CN=${name} test CA`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** Generates a CA and a certificate for `subjectAltName` (IP:127.0.0.1 by default) with openssl, in a temporary directory. */
export function makeCertificates(subjectAltName = 'IP:127.0.0.1'): TestCertificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-tls-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other');
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=postgres test server',
  ]);
  fs.writeFileSync(
    path.join(dir, 'server.ext'),
    `subjectAltName=${subjectAltName}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
  const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
  return {
    dir,
    caPem: read('ca.crt'),
    caFile: path.join(dir, 'ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    otherCaPem: read('other.crt'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
