import * as core from '@actions/core';
import { ConfigurationError } from '../../common/errors.js';
import { connectionSecrets } from '../../common/secrets.js';
import { parseExpectedTables, type TableExpectation } from '../../smoke/database-tables.js';
import { parseExpectBody, type BodyExpectation } from '../../smoke/expect-body.js';
import { parseExpectedStatus, type StatusMatcher } from '../../smoke/expected-status.js';
import { parseHeaders } from '../../smoke/headers.js';
import { resolveWorkingDirectory } from '../../common/working-directory.js';
import { getBoolean, getDuration, getInteger, getLines, getSecret, getString } from '../common/inputs.js';
import { Inputs } from './constants.js';

export interface SmokeInputs {
  /** URLs to check, each http(s). */
  urls: string[];
  /** Statuses that count as healthy. */
  expectedStatus: StatusMatcher;
  /** What a healthy body shows: a JSON path comparison or a substring. */
  expectBody?: BodyExpectation;
  /** Request headers; their values are masked. */
  headers: Record<string, string>;
  /** Most requests per URL. */
  attempts: number;
  /** First pause between attempts, in milliseconds; doubles each retry. */
  intervalMs: number;
  /** The most a pause grows to, in milliseconds. */
  maxIntervalMs: number;
  /** Longest wait for one response, in milliseconds. */
  requestTimeoutMs: number;
  /** Budget for every check together, the command included, in milliseconds. */
  deadlineMs: number;
  /** Retry a 4xx (other than 429) instead of failing at once. */
  retryOn4xx: boolean;
  /** A shell command run after the URLs pass. */
  command?: string;
  /** Where the command runs: the project's directory (working-directory), absolute. */
  commandCwd: string;
  /** Connection string of the database to check the tables of. Masked. */
  databaseUrl?: string;
  /** Tables that must exist (name) or must not (!name). */
  expectedTables: TableExpectation[];
  /** Strings to scrub from every message. */
  secrets: string[];
}

export function getInputs(): SmokeInputs {
  const urls = getLines(Inputs.Urls).map(validateUrl);
  const headerLines = getLines(Inputs.Headers);
  const headers = parseHeaders(headerLines, Inputs.Headers);
  const secrets: string[] = [];
  for (const value of Object.values(headers)) {
    if (value.length >= 3) {
      core.setSecret(value);
      secrets.push(value);
    }
  }
  const expectBodyText = getString(Inputs.ExpectBody);
  const command = getString(Inputs.Command);
  const commandCwd = resolveWorkingDirectory(getString(Inputs.WorkingDirectory), undefined, Inputs.WorkingDirectory);
  const databaseUrl = getSecret(Inputs.DatabaseUrl);
  if (databaseUrl) secrets.push(...connectionSecrets(databaseUrl));
  const expectedTables = parseExpectedTables(getLines(Inputs.ExpectedTables), Inputs.ExpectedTables);
  if (expectedTables.length && !databaseUrl) {
    throw new ConfigurationError(
      `Input "${Inputs.ExpectedTables}" is set but "${Inputs.DatabaseUrl}" is not: give the connection string of the database to check.`,
    );
  }
  if (databaseUrl && !expectedTables.length) {
    throw new ConfigurationError(
      `Input "${Inputs.DatabaseUrl}" is set but "${Inputs.ExpectedTables}" is empty: list the tables that must exist, and !name for those that must not.`,
    );
  }
  if (urls.length === 0 && !command && !databaseUrl) {
    throw new ConfigurationError(
      `Nothing to check: give "${Inputs.Urls}" (one URL a line), "${Inputs.Command}" or "${Inputs.DatabaseUrl}" with "${Inputs.ExpectedTables}".`,
    );
  }
  return {
    urls,
    expectedStatus: parseExpectedStatus(getString(Inputs.ExpectedStatus) ?? '200', Inputs.ExpectedStatus),
    expectBody: expectBodyText === undefined ? undefined : parseExpectBody(expectBodyText, Inputs.ExpectBody),
    headers,
    attempts: getInteger(Inputs.Attempts, { min: 1, max: 1000 }) ?? 10,
    intervalMs: getDuration(Inputs.Interval, '5s'),
    maxIntervalMs: getDuration(Inputs.MaxInterval, '30s'),
    requestTimeoutMs: getDuration(Inputs.RequestTimeout, '10s', { min: 1 }),
    deadlineMs: getDuration(Inputs.Deadline, '5m', { min: 1 }),
    retryOn4xx: getBoolean(Inputs.RetryOn4xx, false),
    command,
    commandCwd,
    databaseUrl,
    expectedTables,
    secrets,
  };
}

function validateUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigurationError(
      `Input "${Inputs.Urls}" has "${text}", which is not a URL. Write full URLs such as https://api.example.com/health/ready, one a line.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigurationError(
      `Input "${Inputs.Urls}" has "${text}" with scheme "${url.protocol.replace(/:$/, '')}". Valid values are: [http, https].`,
    );
  }
  if (url.username || url.password) {
    throw new ConfigurationError(
      `Input "${Inputs.Urls}" has a URL with credentials in it (${url.host}); pass them in "${Inputs.Headers}" instead (Authorization: ...), where they are masked.`,
    );
  }
  return url.toString();
}
