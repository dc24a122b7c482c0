import { isFlagged, needsAllowDestructive } from '../sql/risk.js';
import { renderAttempts } from './attempts-report.js';
import { RUNTIME_VERSIONS } from './fingerprint.js';
import { settingsTable, type MigrationSettings } from './knexfile.js';
import { describeHolder } from './lock.js';
import { escapeControl } from './review.js';
import { describeRequest } from './plan.js';
import { oneLine, type RollbackResult, type ReviewedStatement } from './rollback.js';
import { DATA_MODES } from './run-types.js';
import type { StatusSnapshot } from './status.js';
import { renderPreservation } from '../preserve/report.js';

/** The SQL the run executed, grouped under the migration that ran it, as one script. */
export function renderSql(statements: readonly ReviewedStatement[]): string {
  return sqlLines(statements).join('\n');
}

/** GitHub truncates large step outputs: the `sql` output stays under this, with a marker where it was cut. */
export const SQL_OUTPUT_LIMIT_BYTES = 512 * 1024;

/** renderSql cut at a statement boundary to at most `limitBytes`, ending with a marker when cut. */
export function renderSqlCapped(
  statements: readonly ReviewedStatement[],
  limitBytes = SQL_OUTPUT_LIMIT_BYTES,
  where = 'sql-file',
): string {
  const lines = sqlLines(statements);
  const full = lines.join('\n');
  if (Buffer.byteLength(full, 'utf8') <= limitBytes) return full;
  const room = limitBytes - 300;
  const kept: string[] = [];
  let used = 0;
  let shown = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8') + 1;
    if (used + size > room) break;
    kept.push(line);
    used += size;
    if (!line.startsWith('-- ')) shown++;
  }
  kept.push(
    `-- … cut here: ${statements.length - shown} more statement(s) not shown (this output is capped at ${Math.round(limitBytes / 1024)} KiB); the complete list is in ${where}.`,
  );
  return kept.join('\n');
}

function sqlLines(statements: readonly ReviewedStatement[]): string[] {
  const lines: string[] = [];
  let current: string | undefined | null = null;
  for (const statement of statements) {
    if (statement.migration !== current) {
      current = statement.migration;
      lines.push(`-- ${escapeControl(current ?? "Knex's bookkeeping")}`);
    }
    lines.push(
      `${escapeControl(statement.sql.trim().replace(/;$/, ''), { keepLineBreaks: true })};${annotations(statement)}`,
    );
  }
  return lines;
}

function annotations(statement: ReviewedStatement): string {
  const flags = isFlagged(statement.risk) ? ` -- ${statement.risk}: ${statement.reasons.join('; ')}` : '';
  const rows = statement.rowCount === undefined ? '' : ` -- ${rowsText(statement.rowCount)}`;
  const failed = statement.error ? ` -- FAILED: ${statement.error}` : '';
  const outcome =
    statement.outcome === 'refused'
      ? ' -- REFUSED: not sent'
      : statement.outcome === 'would run'
        ? ' -- WOULD RUN: not sent by the dry run (a ROLLBACK would not undo it)'
        : '';
  return `${flags}${rows}${failed}${outcome}`;
}

function rowsText(count: number): string {
  return `${count} ${count === 1 ? 'row' : 'rows'}`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function snapshotTable(snapshot: StatusSnapshot | undefined): string {
  if (!snapshot) return '_Not read._\n';
  const lines: string[] = [];
  if (snapshot.applied.length === 0) lines.push('_No migration applied._');
  else {
    lines.push('| # | Migration | Batch | Applied at |', '|---|---|---|---|');
    for (const row of [...snapshot.applied].reverse())
      lines.push(`| ${row.id} | ${escapeCell(row.name)} | ${row.batch} | ${row.migrationTime} |`);
  }
  lines.push(
    '',
    `Pending (files not applied): ${snapshot.pending.length ? snapshot.pending.map((name) => `\`${escapeCell(name)}\``).join(', ') : 'none'}.`,
  );
  if (snapshot.missingFiles.length) {
    lines.push(
      '',
      `**Applied but no file:** ${snapshot.missingFiles.map((name) => `\`${escapeCell(name)}\``).join(', ')}. Their rows say they ran, but this checkout has no down() for them: they cannot be rolled back from here (restore the files from the release that applied them).`,
    );
  }
  const { lock } = snapshot;
  lines.push(
    '',
    `Lock: ${!lock.tableExists ? `${lock.table} does not exist.` : lock.isLocked ? `**${lock.table}.is_locked = 1**` : `${lock.table}.is_locked = 0`}${
      lock.holders.length
        ? `; held by ${lock.holders.map(describeHolder).join('; ')}`
        : lock.isLocked
          ? '; no session holds it: a crashed run left it (free it with mode: unlock, force-unlock: true)'
          : ''
    }.`,
  );
  return `${lines.join('\n')}\n`;
}

/** The job summary: for a reviewer who was not there. */
export function renderSummary(
  result: RollbackResult | undefined,
  asked: string,
  outcome: { ok: boolean; message?: string },
  settings?: MigrationSettings,
): string {
  const parts: string[] = ['## Migration rollback', '', `**Asked:** ${asked}`, ''];
  parts.push(
    outcome.ok ? `**Result:** ${describeOutcome(result)}` : `**Result: failed.**\n\n${outcome.message ?? ''}`,
    '',
  );
  if (!result) return parts.join('\n');
  if (!['status', 'unlock', ...DATA_MODES].includes(result.mode)) {
    parts.push(`### Plan: ${describeRequest(result.request)}`, '');
    if (result.plan.length === 0) parts.push('_Nothing to undo._');
    else {
      parts.push('| Order | Migration | Batch | In the transaction | Segment |', '|---|---|---|---|---|');
      result.plan.forEach((migration, index) => {
        const segment = result.segments.findIndex((s) => s.migrations.includes(migration.name)) + 1;
        parts.push(
          `| ${index + 1} | ${escapeCell(migration.name)} | ${migration.batch} | ${migration.transaction ? 'yes' : '**no** (config.transaction = false)'} | ${segment} of ${result.segments.length} |`,
        );
      });
    }
    if (result.fingerprint)
      parts.push('', `plan-fingerprint: \`${result.fingerprint}\``, '', fingerprintCovers(result));
    parts.push('');
  }
  if (settings) parts.push(...settingsTable(settings));
  parts.push(...statementSections(result));
  // The modes on preserved data read no migration status.
  if (!DATA_MODES.includes(result.mode))
    parts.push('### Before', '', snapshotTable(result.before), '### After', '', snapshotTable(result.after));
  return parts.join('\n');
}

/** The summary's share for each of the two statement sections: the whole summary must stay under GitHub's 1 MiB. */
const SECTION_LIMIT_BYTES = 300 * 1024;

/** Destructive statements first (all of them, if they fit), then the whole script, each capped with "N more in the record". */
function statementSections(result: RollbackResult): string[] {
  const parts: string[] = [];
  const blocked = result.statements.filter((s) => needsAllowDestructive(s.risk));
  const inRecord = 'in the record (the sql-file output, kept with the rollback record)';
  if (blocked.length) {
    const rows: string[] = [];
    let used = 0;
    for (const s of blocked) {
      const row = `| ${escapeCell(s.migration ?? "Knex's bookkeeping")} | \`${escapeCell(oneLine(s.sql, 160))}\`${s.rowCount === undefined ? '' : ` — ${rowsText(s.rowCount)}`} | ${s.risk}${s.outcome ? ` (${s.outcome})` : ''} | ${escapeCell(s.reasons.join('; '))} |`;
      used += Buffer.byteLength(row, 'utf8') + 1;
      if (used > SECTION_LIMIT_BYTES) break;
      rows.push(row);
    }
    parts.push(
      '### Statements that destroy data or remove security',
      '',
      result.committed ? '_Committed with allow-destructive: true._' : '_Not committed._',
      '',
      '| Migration | Statement | Risk | Why |',
      '|---|---|---|---|',
      ...rows,
      ...(rows.length < blocked.length ? ['', `_${blocked.length - rows.length} more ${inRecord}._`] : []),
      '',
    );
  }
  parts.push(...renderPreservation(result.preservation, result.dryRun));
  if (result.warnings.length) {
    parts.push('### Warnings', '', ...result.warnings.map((warning) => `- ${warning}`), '');
  }
  parts.push(...renderAttempts(result.attempts ?? []));
  if (result.lockChecks.length) parts.push('### Lock checks', '', ...result.lockChecks.map((line) => `- ${line}`), '');
  if (result.notes.length) parts.push(...result.notes.map((note) => `> ${note}`), '');
  if (result.statements.length) {
    parts.push(
      `<details><summary>SQL executed (${result.statements.length} statements, ${blocked.length} destructive or security-removing)${result.committed ? '' : ' — rolled back'}</summary>`,
      '',
      '```sql',
      renderSqlCapped(result.statements, SECTION_LIMIT_BYTES, inRecord),
      '```',
      '',
      '</details>',
      '',
    );
  }
  return parts;
}

/** What the fingerprint covers, so a reviewer knows what a change after approval would be caught by. */
function fingerprintCovers(result: RollbackResult): string {
  const local = result.localCode.length
    ? `, and the local code they load: ${result.localCode.map((file) => `\`${escapeCell(file.path)}\``).join(', ')}`
    : ', and the local code they load (none)';
  return `It covers the rows to undo, their ${result.plan.length} migration file(s)${local}; Knex ${RUNTIME_VERSIONS.knex} and db-rollback-actions ${RUNTIME_VERSIONS.action}. A file a down() imports only while it runs is covered by a dry run's fingerprint only.`;
}

function describeOutcome(result: RollbackResult | undefined): string {
  if (!result) return 'done.';
  switch (result.mode) {
    case 'status':
      return 'status read; nothing changed.';
    case 'unlock':
      return result.committed ? "Knex's migration lock freed." : 'nothing to free; nothing changed.';
    case 'restore-data':
    case 'prune-data':
    case 'estimate-data':
      return result.notes[0] ?? 'done.';
    default:
      if (result.dryRun) return `dry run of ${result.plan.length} migration(s); rolled back, nothing changed.`;
      if (result.mode === 'plan') return `plan of ${result.plan.length} migration(s); nothing changed.`;
      return result.rolledBack.length
        ? `undid ${result.rolledBack.length} migration(s): ${result.rolledBack.join(', ')}.`
        : 'nothing to undo; nothing changed.';
  }
}
