import { isFlagged, needsAllowDestructive } from '../sql/risk.js';
import { describeHolder } from './lock.js';
import { escapeControl } from './review.js';
import { describeRequest } from './plan.js';
import { oneLine, type RollbackResult, type ReviewedStatement } from './rollback.js';
import type { StatusSnapshot } from './status.js';
import { renderPreservation } from '../preserve/report.js';

/** The SQL the run executed, grouped under the migration that ran it, as one script. */
export function renderSql(statements: readonly ReviewedStatement[]): string {
  const lines: string[] = [];
  let current: string | undefined | null = null;
  for (const statement of statements) {
    if (statement.migration !== current) {
      current = statement.migration;
      lines.push(`-- ${escapeControl(current ?? "Knex's bookkeeping")}`);
    }
    const flags = isFlagged(statement.risk) ? ` -- ${statement.risk}: ${statement.reasons.join('; ')}` : '';
    const failed = statement.error ? ` -- FAILED: ${statement.error}` : '';
    const outcome =
      statement.outcome === 'refused'
        ? ' -- REFUSED: not sent'
        : statement.outcome === 'would run'
          ? ' -- WOULD RUN: not sent by the dry run (a ROLLBACK would not undo it)'
          : '';
    lines.push(
      `${escapeControl(statement.sql.trim().replace(/;$/, ''), { keepLineBreaks: true })};${flags}${failed}${outcome}`,
    );
  }
  return lines.join('\n');
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
): string {
  const parts: string[] = ['## Migration rollback', '', `**Asked:** ${asked}`, ''];
  parts.push(
    outcome.ok ? `**Result:** ${describeOutcome(result)}` : `**Result: failed.**\n\n${outcome.message ?? ''}`,
    '',
  );
  if (!result) return parts.join('\n');
  if (!['status', 'unlock', 'restore-data', 'prune-data'].includes(result.mode)) {
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
    if (result.fingerprint) parts.push('', `plan-fingerprint: \`${result.fingerprint}\``);
    parts.push('');
  }
  const blocked = result.statements.filter((s) => needsAllowDestructive(s.risk));
  if (blocked.length) {
    parts.push(
      '### Statements that destroy data or remove security',
      '',
      result.committed ? '_Committed with allow-destructive: true._' : '_Not committed._',
      '',
      '| Migration | Statement | Risk | Why |',
      '|---|---|---|---|',
      ...blocked.map(
        (s) =>
          `| ${escapeCell(s.migration ?? "Knex's bookkeeping")} | \`${escapeCell(oneLine(s.sql, 160))}\` | ${s.risk} | ${escapeCell(s.reasons.join('; '))} |`,
      ),
      '',
    );
  }
  parts.push(...renderPreservation(result.preservation, result.dryRun));
  if (result.warnings.length) {
    parts.push('### Warnings', '', ...result.warnings.map((warning) => `- ${warning}`), '');
  }
  if (result.lockChecks.length) parts.push('### Lock checks', '', ...result.lockChecks.map((line) => `- ${line}`), '');
  if (result.notes.length) parts.push(...result.notes.map((note) => `> ${note}`), '');
  if (result.statements.length) {
    const blocked = result.statements.filter((s) => needsAllowDestructive(s.risk)).length;
    parts.push(
      `<details><summary>SQL executed (${result.statements.length} statements, ${blocked} destructive or security-removing)${result.committed ? '' : ' — rolled back'}</summary>`,
      '',
      '```sql',
      renderSql(result.statements),
      '```',
      '',
      '</details>',
      '',
    );
  }
  // restore-data and prune-data read no migration status.
  if (!['restore-data', 'prune-data'].includes(result.mode))
    parts.push('### Before', '', snapshotTable(result.before), '### After', '', snapshotTable(result.after));
  return parts.join('\n');
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
      return result.notes[0] ?? 'done.';
    default:
      if (result.dryRun) return `dry run of ${result.plan.length} migration(s); rolled back, nothing changed.`;
      if (result.mode === 'plan') return `plan of ${result.plan.length} migration(s); nothing changed.`;
      return result.rolledBack.length
        ? `undid ${result.rolledBack.length} migration(s): ${result.rolledBack.join(', ')}.`
        : 'nothing to undo; nothing changed.';
  }
}
