import { escapeHtml } from '../common/html.js';
import type { RollbackRecord } from './record.js';

/** The record as Markdown, for the job summary and the file an auditor opens. */

/** Table cells: a pipe or newline would break the row, and Markdown renders HTML someone typed as markup. */
function cell(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  return escapeHtml(String(value)).replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** A fence longer than any run of backticks inside, so SQL with ``` cannot end the block. */
function fence(text: string, language = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const marks = '`'.repeat(longest + 1);
  return `${marks}${language}\n${text}\n${marks}`;
}

function list(names: string[]): string {
  return names.length ? names.map((name) => `- \`${name}\``).join('\n') : '_(none)_';
}

function clock(iso: string | null): string | null {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : null;
}

function took(started: string | null, completed: string | null): string | null {
  if (!started || !completed) return null;
  const seconds = Math.max(0, Math.round((Date.parse(completed) - Date.parse(started)) / 1000));
  return Number.isNaN(seconds) ? null : seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}

const outcomeMark: Record<string, string> = {
  success: '✅',
  succeeded: '✅',
  failure: '❌',
  failed: '❌',
  cancelled: '🚫',
  skipped: '⏭️',
};

/** The record's facts, one table row each. */
function factRows(record: RollbackRecord): Array<[string, string | number | null]> {
  return [
    ['Repository', record.repository],
    ['Environment', record.environment],
    ['Database', record.database],
    ['Method', record.method],
    ['Ref (deployed commit)', record.ref],
    ['Reason', record.reason],
    ['Requested by', record.requestedBy],
    ['Approved by', record.approvedBy.join(', ') || null],
    ...(record.rejectedBy.length ? ([['Rejected by', record.rejectedBy.join(', ')]] as Array<[string, string]>) : []),
    ['Started', record.startedAt],
    ['Finished', record.finishedAt],
    ['Duration', record.durationSeconds === null ? null : `${record.durationSeconds}s`],
    ['Snapshot before the change', record.snapshotIdentifier],
    ['Workflow run', record.runUrl],
  ];
}

export function recordMarkdown(record: RollbackRecord): string {
  const mark = outcomeMark[record.result] ?? '';
  const lines = [`# Migration rollback record: ${mark ? `${mark} ` : ''}${escapeHtml(record.result)}`, ''];
  lines.push('| | |', '|---|---|');
  for (const [label, value] of factRows(record)) lines.push(`| ${label} | ${cell(value)} |`);
  lines.push('');

  lines.push('## Steps', '');
  if (record.steps.length) {
    lines.push('| Step | Outcome |', '|---|---|');
    for (const step of record.steps)
      lines.push(`| ${cell(step.name)} | ${outcomeMark[step.outcome] ?? ''} ${cell(step.outcome)} |`);
  } else lines.push('_No step outcomes were passed._');
  lines.push('');

  lines.push(...timelineSection(record), ...planSection(record), ...migrationsSection(record));
  lines.push(...preservedSection(record));
  lines.push('## SQL', '');
  if (record.sqlFiles.length)
    lines.push(
      `The complete SQL is kept beside this record: ${record.sqlFiles.map((name) => `\`${escapeHtml(name)}\``).join(', ')}.`,
      '',
    );
  lines.push(record.sql ? fence(record.sql, 'sql') : '_No SQL was passed._', '');

  const extra = Object.keys(record.details);
  if (extra.length) lines.push('## Details', '', fence(JSON.stringify(record.details, null, 2), 'json'), '');
  const unparsed = Object.entries(record.unparsed);
  if (unparsed.length) {
    lines.push('## Inputs that were not valid JSON (kept verbatim)', '');
    for (const [name, text] of unparsed) lines.push(`\`${name}\`:`, '', fence(text), '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** Each job and its steps, when and how long: from the GitHub API, absent when it was not read. */
function timelineSection(record: RollbackRecord): string[] {
  if (!record.jobs.length) return [];
  const lines = ['## Timeline', '', '| Job / step | Outcome | Started (UTC) | Took |', '|---|---|---|---|'];
  for (const job of record.jobs) {
    lines.push(
      `| **${cell(job.name)}** | ${cell(job.conclusion ?? 'running')} | ${cell(clock(job.startedAt))} | ${cell(took(job.startedAt, job.completedAt))} |`,
    );
    // The runner's own bookkeeping steps say nothing about the rollback.
    for (const step of job.steps.filter((candidate) => !/^(Set up job|Complete job)$/.test(candidate.name))) {
      lines.push(
        `| &nbsp;&nbsp;${cell(step.name)} | ${cell(step.conclusion ?? 'running')} | ${cell(clock(step.startedAt))} | ${cell(took(step.startedAt, step.completedAt))} |`,
      );
    }
  }
  lines.push('');
  return lines;
}

function planSection(record: RollbackRecord): string[] {
  const lines = ['## Plan', '', `Fingerprint: ${record.planFingerprint ? `\`${record.planFingerprint}\`` : '—'}`, ''];
  if (record.plan.length) {
    lines.push('| # | Migration | Batch | In the transaction |', '|---|---|---|---|');
    record.plan.forEach((step, index) =>
      lines.push(
        `| ${index + 1} | \`${cell(step.name)}\` | ${cell(step.batch)} | ${step.transaction === undefined ? '—' : step.transaction ? 'yes' : 'no'} |`,
      ),
    );
  } else lines.push('_No plan was passed._');
  lines.push('');
  return lines;
}

/** What was undone, and the applied list before and after. */
function migrationsSection(record: RollbackRecord): string[] {
  const lines = [
    '## Migrations',
    '',
    `Undone: ${record.rolledBack.length ? record.rolledBack.map((name) => `\`${name}\``).join(', ') : '_(none)_'}`,
    '',
  ];
  const after = new Set(record.migrationsAfter);
  const removed = record.migrationsBefore.filter((name) => !after.has(name));
  if (record.migrationsBefore.length || record.migrationsAfter.length) {
    lines.push(`Applied before (${record.migrationsBefore.length}):`, '', list(record.migrationsBefore), '');
    lines.push(`Applied after (${record.migrationsAfter.length}):`, '', list(record.migrationsAfter), '');
    if (record.migrationsAfter.length)
      lines.push(
        `No longer applied: ${removed.length ? removed.map((name) => `\`${name}\``).join(', ') : '_(none)_'}`,
        '',
      );
  }
  return lines;
}

/** What the rollback kept in the database, and the one step that puts it back. */
function preservedSection(record: RollbackRecord): string[] {
  if (!record.preserveId && record.preserved.length === 0) return [];
  const lines = [
    '## Preserved data',
    '',
    `preserve-id: ${record.preserveId ? `\`${cell(record.preserveId)}\`` : '—'}. Restore after the fix is deployed with the rollback action, mode \`restore-data\`, and this preserve-id.`,
    '',
  ];
  if (record.preserved.length) {
    lines.push('| Source | Kind | Rows | Bytes | Copy |', '|---|---|---|---|---|');
    for (const copy of record.preserved)
      lines.push(
        `| ${cell(copy.source)} | ${cell(copy.kind)} | ${copy.rows ?? '—'} | ${copy.bytes ?? '—'} | ${cell(copy.copy)} |`,
      );
    lines.push('');
  }
  return lines;
}
