// The settings every session of a run carries, so that no lock it takes outlives the runner:
// a frozen runner leaves its transaction idle (idle_in_transaction_session_timeout ends it), a
// vanished one leaves a socket nobody reads (client_connection_check_interval and TCP keepalives
// notice). Applied per session right after connect, so they hold whatever built the connection config.
import type pg from 'pg';
import type { Logger } from '../common/logger.js';

export interface SessionLimits {
  /** lock_timeout: the longest wait of any one attempt. */
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  /** idle_in_transaction_session_timeout. */
  sessionIdleTimeoutMs: number;
}

/** How often the server checks that the client is still there while a statement runs (PostgreSQL 14+). */
export const CONNECTION_CHECK_INTERVAL = '2s';
/** Keepalive probes: a peer gone from the network is noticed after about idle + interval × count = 40 s. */
export const TCP_KEEPALIVES = { idle: 10, interval: 10, count: 3 } as const;

/** The part of the pg connection config that belongs to these settings (the client side of the keepalives). */
export const keepAliveConfig = {
  keepAlive: true,
  keepAliveInitialDelayMillis: TCP_KEEPALIVES.idle * 1000,
} as const;

/** What applying the settings found out about the server, once per run. */
export interface SessionSettingsReport {
  serverVersion: number;
  /** Whether client_connection_check_interval was set (PostgreSQL 14+). */
  connectionCheck: boolean;
}

/** Sets the run's limits on one session; returns what the server supports. */
export async function applySessionSettings(session: pg.Client, limits: SessionLimits): Promise<SessionSettingsReport> {
  const { rows } = await session.query<{ version: string }>(
    `SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false),
            set_config('idle_in_transaction_session_timeout', $3, false),
            set_config('tcp_keepalives_idle', $4, false), set_config('tcp_keepalives_interval', $5, false),
            set_config('tcp_keepalives_count', $6, false),
            current_setting('server_version_num') AS version`,
    [
      `${limits.lockTimeoutMs}ms`,
      `${limits.statementTimeoutMs}ms`,
      `${limits.sessionIdleTimeoutMs}ms`,
      String(TCP_KEEPALIVES.idle),
      String(TCP_KEEPALIVES.interval),
      String(TCP_KEEPALIVES.count),
    ],
  );
  const serverVersion = Number(rows[0].version);
  const connectionCheck = serverVersion >= 140_000;
  if (connectionCheck) {
    await session.query("SELECT set_config('client_connection_check_interval', $1, false)", [
      CONNECTION_CHECK_INTERVAL,
    ]);
  }
  return { serverVersion, connectionCheck };
}

/** One line for the log, once per run; a notice when the server is too old for the connection check. */
export function logSessionSettings(logger: Logger, limits: SessionLimits, report: SessionSettingsReport): void {
  logger.info(
    `Session settings: lock_timeout up to ${limits.lockTimeoutMs}ms per attempt, statement_timeout ${limits.statementTimeoutMs}ms, idle_in_transaction_session_timeout ${limits.sessionIdleTimeoutMs}ms, TCP keepalives ${TCP_KEEPALIVES.idle}s/${TCP_KEEPALIVES.interval}s×${TCP_KEEPALIVES.count}${report.connectionCheck ? `, client_connection_check_interval ${CONNECTION_CHECK_INTERVAL}` : ''}.`,
  );
  if (!report.connectionCheck) {
    logger.warning(
      `PostgreSQL ${Math.floor(report.serverVersion / 10_000)} has no client_connection_check_interval (14+): a statement running when the runner vanishes keeps its locks until it ends or statement-timeout passes; TCP keepalives and idle_in_transaction_session_timeout still apply.`,
    );
  }
}
