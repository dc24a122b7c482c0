import net from 'node:net';
import tls from 'node:tls';

// What RDS does with IAM authentication, at the protocol boundary: PostgreSQL's startup
// protocol over TLS, asking for a cleartext password (the token), as RDS does for rds_iam users.
// It records what the client sent. Alone, it then answers every query with an error: what
// matters is the password, not the SQL. Given an `upstream` (a real PostgreSQL that asks for a
// cleartext password, as the tests' shared server does), it logs in there with the real
// password in the token's place and relays the session, so Knex and pg run real queries.

export interface ReceivedLogin {
  user: string;
  database: string;
  password: string;
  /** Whether the password came over TLS. */
  encrypted: boolean;
  /** The startup parameters (application_name, options, ...). */
  parameters: Record<string, string>;
}

/** A real PostgreSQL behind the fake, whose users all have this password. */
export interface Upstream {
  host: string;
  port: number;
  password: string;
}

export interface PasswordServer {
  port: number;
  logins: ReceivedLogin[];
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const int32 = (value: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
};

const cleartextPasswordRequest = () => message('R', int32(3));
const authenticationOk = () => message('R', int32(0));
const readyForQuery = () => message('Z', Buffer.from('I'));
const errorResponse = (text: string) => message('E', Buffer.from(`SERROR\0C0A000\0M${text}\0\0`, 'utf8'));

/** What a message handler may return: take over the stream, given the bytes read past this message. */
type HandOver = (rest: Buffer) => void;

/** Reads length-prefixed messages from a stream: the startup one (no type byte) first. */
function reader(
  socket: net.Socket,
  onMessage: (type: string, body: Buffer, raw: Buffer) => HandOver | void,
  startup: boolean,
): void {
  let buffered = Buffer.alloc(0);
  let expectStartup = startup;
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const offset = expectStartup ? 0 : 1;
      if (buffered.length < offset + 4) return;
      const length = buffered.readInt32BE(offset);
      if (buffered.length < offset + length) return;
      const type = expectStartup ? '' : buffered.toString('latin1', 0, 1);
      const raw = buffered.subarray(0, offset + length);
      buffered = buffered.subarray(offset + length);
      expectStartup = false;
      const handOver = onMessage(type, raw.subarray(offset + 4), raw);
      if (handOver) {
        socket.off('data', onData);
        handOver(buffered);
        return;
      }
    }
  };
  socket.on('data', onData);
}

function cstrings(body: Buffer): string[] {
  return body.toString('utf8').split('\0');
}

/**
 * Logs in to the upstream server with the client's startup message and the real password, then
 * relays the session both ways: the upstream's AuthenticationOk is the client's.
 */
function relay(client: net.Socket, startup: Buffer, upstream: Upstream, sockets: Set<net.Socket>): HandOver {
  return (fromClient) => {
    const server = net.connect(upstream.port, upstream.host);
    sockets.add(server);
    server.on('close', () => {
      sockets.delete(server);
      client.destroy();
    });
    server.on('error', () => client.destroy());
    client.on('close', () => server.destroy());
    server.write(startup);
    reader(
      server,
      (type, body, raw) => {
        if (type === 'R' && body.readInt32BE(0) === 3) {
          server.write(message('p', Buffer.from(`${upstream.password}\0`, 'utf8')));
          return undefined;
        }
        return (fromServer) => {
          client.write(Buffer.concat([raw, fromServer]));
          server.write(fromClient);
          server.pipe(client);
          client.pipe(server);
        };
      },
      false,
    );
  };
}

export async function startPasswordServer(options: {
  cert: string;
  key: string;
  host?: string;
  upstream?: Upstream;
}): Promise<PasswordServer> {
  const logins: ReceivedLogin[] = [];
  const sockets = new Set<net.Socket>();

  const speak = (socket: net.Socket, encrypted: boolean) => {
    let startup: Record<string, string> = {};
    let startupMessage = Buffer.alloc(0);
    reader(
      socket,
      (type, body, raw) => {
        if (type === '') {
          const pairs = cstrings(body.subarray(4));
          startup = {};
          for (let i = 0; i + 1 < pairs.length && pairs[i]; i += 2) startup[pairs[i]] = pairs[i + 1];
          startupMessage = Buffer.from(raw);
          socket.write(cleartextPasswordRequest());
        } else if (type === 'p') {
          logins.push({
            user: startup.user,
            database: startup.database,
            password: cstrings(body)[0],
            encrypted,
            parameters: startup,
          });
          if (options.upstream) return relay(socket, startupMessage, options.upstream, sockets);
          socket.write(Buffer.concat([authenticationOk(), readyForQuery()]));
        } else if (type === 'Q' || type === 'P') {
          socket.write(Buffer.concat([errorResponse('the fake server answers no queries'), readyForQuery()]));
        } else if (type === 'X') {
          socket.end();
        }
        return undefined;
      },
      true,
    );
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (first: Buffer) => {
      if (first.length === 8 && first.readInt32BE(4) === SSL_REQUEST) {
        socket.write('S');
        const secure = new tls.TLSSocket(socket, { isServer: true, cert: options.cert, key: options.key });
        secure.on('error', () => undefined);
        speak(secure, true);
      } else {
        // A client that skips TLS gets its startup answered in plain text (and its password recorded as such).
        speak(socket, false);
        socket.emit('data', first);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    logins,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
