// The attempts of a run in its summary: how many there were, what each waited for, and who
// blocked it. Blockers' application names and queries come from other sessions: escaped as shown.
import { escapeHtml } from '../common/html.js';
import { formatDuration } from '../common/duration.js';
import { describeBlocker, type LockAttemptRecord } from './blockers.js';

export function renderAttempts(attempts: readonly LockAttemptRecord[]): string[] {
  const waited = attempts.filter((attempt) => attempt.outcome === 'lock timeout');
  if (waited.length === 0) return [];
  const cell = (text: string) => escapeHtml(text).replace(/\|/g, '\\|').replace(/`/g, "'");
  return [
    `### Lock waits: ${attempts.length} attempt(s), ${waited.length} timed out and rolled back`,
    '',
    '| Attempt | lock_timeout | Outcome | Waited at | Blocked by |',
    '|---|---|---|---|---|',
    ...attempts.map(
      (attempt) =>
        `| ${attempt.attempt} | ${formatDuration(attempt.lockTimeoutMs)} | ${attempt.outcome} | ${cell(attempt.waitedAt ?? '')} | ${cell(attempt.blockers.map(describeBlocker).join('; ') || (attempt.outcome === 'lock timeout' ? 'ended before it could be read' : ''))} |`,
    ),
    '',
  ];
}
