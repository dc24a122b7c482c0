import { ConfigurationError } from '../../common/errors.js';
import { parseExpectedTables } from '../../smoke/database-tables.js';
import { parseExpectBody } from '../../smoke/expect-body.js';
import { parseExpectedStatus } from '../../smoke/expected-status.js';
import { headerSecrets, parseHeaders } from '../../smoke/headers.js';
import { awsRegionInput, databaseUrlInput, iamAuthInput, sslCaInput } from '../common/database.js';
import { custom, duration, flag, integer, splitLines, text, type ParsedInputs } from '../common/inputs.js';
import { workingDirectory } from '../common/working-directory.js';

/** The smoke action's inputs as action.yml declares them. */
export const inputs = {
  /** URLs to check, each http(s), one a line. */
  urls: custom('urls', (value) => splitLines(value ?? '').map(validateUrl)),
  /** Statuses that count as healthy. */
  expectedStatus: custom('expected-status', (value, name) => parseExpectedStatus(value ?? '200', name), {
    default: '200',
  }),
  /** What a healthy body shows: a JSON path comparison or a substring. */
  expectBody: custom('expect-body', (value, name) => (value === undefined ? undefined : parseExpectBody(value, name))),
  /** Request headers; their values are masked. */
  headers: custom('headers', (value, name) => parseHeaders(splitLines(value ?? ''), name), {
    secret: true,
    derive: headerSecrets,
  }),
  /** Most requests per URL. */
  attempts: integer('attempts', { min: 1, max: 1000, default: 10 }),
  /** First pause between attempts; doubles each retry. */
  intervalMs: duration('interval', '5s'),
  /** The most a pause grows to. */
  maxIntervalMs: duration('max-interval', '30s'),
  /** Longest wait for one response. */
  requestTimeoutMs: duration('request-timeout', '10s', { min: 1 }),
  /** Budget for every check together, the command included. */
  deadlineMs: duration('deadline', '5m', { min: 1 }),
  /** Retry a 4xx (other than 429) instead of failing at once. */
  retryOn4xx: flag('retry-on-4xx', false),
  /** A shell command run after the URLs pass. */
  command: text('command'),
  /** Where the command runs: the project's directory, absolute. */
  workingDirectory: workingDirectory(),
  /** Connection URL of the database to check the tables of (masked with its password). */
  databaseUrl: databaseUrlInput({ required: false }),
  /** TLS and authentication for that database. */
  sslCa: sslCaInput(),
  iamAuth: iamAuthInput(),
  awsRegion: awsRegionInput(),
  /** Tables that must exist (name) or must not (!name). */
  expectedTables: custom('expected-tables', (value, name) => parseExpectedTables(splitLines(value ?? ''), name)),
};

export type SmokeInputs = ParsedInputs<typeof inputs>;

/** What the inputs must give together: something to check, and a database with its tables. */
export function checkCombination(given: SmokeInputs): void {
  if (given.expectedTables.length && !given.databaseUrl) {
    throw new ConfigurationError(
      `Input "expected-tables" is set but "database-url" is not: give the connection string of the database to check.`,
    );
  }
  if (given.databaseUrl && !given.expectedTables.length) {
    throw new ConfigurationError(
      `Input "database-url" is set but "expected-tables" is empty: list the tables that must exist, and !name for those that must not.`,
    );
  }
  if (given.urls.length === 0 && !given.command && !given.databaseUrl) {
    throw new ConfigurationError(
      `Nothing to check: give "urls" (one URL a line), "command" or "database-url" with "expected-tables".`,
    );
  }
}

function validateUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigurationError(
      `Input "urls" has "${text}", which is not a URL. Write full URLs such as https://api.example.com/health/ready, one a line.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigurationError(
      `Input "urls" has "${text}" with scheme "${url.protocol.replace(/:$/, '')}". Valid values are: [http, https].`,
    );
  }
  if (url.username || url.password) {
    throw new ConfigurationError(
      `Input "urls" has a URL with credentials in it (${url.host}); pass them in "headers" instead (Authorization: ...), where they are masked.`,
    );
  }
  return url.toString();
}
