import { runCommand } from './command.js';
import type { ConnectionSecurity } from '../postgres/connection.js';
import { checkTables, type TableExpectation } from './database-tables.js';
import type { BodyExpectation } from './expect-body.js';
import type { StatusMatcher } from './expected-status.js';
import { checkUrl } from './http-check.js';
import { systemClock, type Clock } from '../common/clock.js';
import { silentLogger, type Logger } from '../common/logger.js';
import type { CheckResult } from './types.js';

export interface SmokeOptions {
  urls: string[];
  headers?: Record<string, string>;
  expectedStatus: StatusMatcher;
  expectBody?: BodyExpectation;
  attempts: number;
  intervalMs: number;
  maxIntervalMs: number;
  requestTimeoutMs: number;
  /** Overall budget for every check, the command included. */
  deadlineMs: number;
  retryOn4xx?: boolean;
  command?: string;
  commandCwd?: string;
  commandEnv?: NodeJS.ProcessEnv;
  /** The database whose tables are checked: its URL, TLS and authentication (ssl-ca, iam-auth). */
  database?: { url: string; tables: TableExpectation[]; security?: ConnectionSecurity };
  logger?: Logger;
  clock?: Clock;
}

export interface SmokeReport {
  passed: boolean;
  results: CheckResult[];
}

/**
 * The runbook's "Verify Application Health" and "Run Smoke Tests" as one verdict: every
 * URL in parallel with the schema check, then the smoke command once the URLs answer
 * (running it against a service that is down would only fail slower and say less).
 */
export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.deadlineMs;
  const urlChecks = options.urls.map((url) =>
    checkUrl({
      url,
      headers: options.headers,
      expectedStatus: options.expectedStatus,
      expectBody: options.expectBody,
      attempts: options.attempts,
      intervalMs: options.intervalMs,
      maxIntervalMs: options.maxIntervalMs,
      requestTimeoutMs: options.requestTimeoutMs,
      deadline,
      retryOn4xx: options.retryOn4xx,
      logger,
      clock,
    }),
  );
  const databaseCheck = options.database
    ? checkTables(options.database.url, options.database.tables, options.database.security)
    : undefined;
  const urlResults = await Promise.all(urlChecks);
  const results: CheckResult[] = [...urlResults];
  if (options.command) {
    const check = `command: ${options.command}`;
    if (urlResults.every((result) => result.passed)) {
      logger.info(`Running ${options.command}`);
      results.push(
        await runCommand({
          command: options.command,
          cwd: options.commandCwd,
          env: options.commandEnv,
          timeoutMs: deadline - clock.now(),
          logger,
        }),
      );
    } else {
      results.push({
        check,
        kind: 'command',
        passed: false,
        skipped: true,
        attempts: 0,
        error: 'not run: a URL check failed',
      });
    }
  }
  if (databaseCheck) results.push(await databaseCheck);
  return { passed: results.every((result) => result.passed), results };
}
