import type pg from 'pg';
import { applySessionSettings, logSessionSettings, type SessionLimits } from '../../src/migrations/session-settings.js';
import { recordingLogger } from '../rollback/helpers.js';

const limits: SessionLimits = { lockTimeoutMs: 200, statementTimeoutMs: 900_000, sessionIdleTimeoutMs: 60_000 };

/**
 * A session of a server of the given version: the embedded PostgreSQL the other tests run is
 * recent, and server_version_num cannot be set, so an older server is played here. It records
 * what the settings would send.
 */
function sessionOf(version: number): { session: pg.Client; sent: string[] } {
  const sent: string[] = [];
  const session = {
    query: (sql: string) => {
      sent.push(sql);
      return Promise.resolve({ rows: [{ version: String(version) }] });
    },
  } as unknown as pg.Client;
  return { session, sent };
}

describe('session settings', () => {
  it('skips client_connection_check_interval on PostgreSQL 13, with a notice of what still frees the locks', async () => {
    const { session, sent } = sessionOf(130_000);
    const report = await applySessionSettings(session, limits);
    expect(report).toEqual({ serverVersion: 130_000, connectionCheck: false });
    expect(sent.join('\n')).not.toContain('client_connection_check_interval');
    const logger = recordingLogger();
    logSessionSettings(logger, limits, report);
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[0]).toMatch(/^Session settings: .*idle_in_transaction_session_timeout 60000ms/);
    expect(logger.lines[0]).not.toContain('client_connection_check_interval');
    expect(logger.lines[1]).toBe(
      'warning: PostgreSQL 13 has no client_connection_check_interval (14+): a statement running when the runner vanishes keeps its locks until it ends or statement-timeout passes; TCP keepalives and idle_in_transaction_session_timeout still apply.',
    );
  });

  it('sets client_connection_check_interval from PostgreSQL 14 on, without a notice', async () => {
    const { session, sent } = sessionOf(140_000);
    const report = await applySessionSettings(session, limits);
    expect(report.connectionCheck).toBe(true);
    expect(sent.at(-1)).toContain("set_config('client_connection_check_interval'");
    const logger = recordingLogger();
    logSessionSettings(logger, limits, report);
    expect(logger.lines).toEqual([expect.stringMatching(/client_connection_check_interval 2s\.$/)]);
  });
});
