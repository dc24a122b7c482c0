// How preservation reads in the job summary and the outputs: what was kept and where, what
// came back, what was pruned, and how to restore.
import { formatDuration } from '../common/duration.js';
import { formatSize } from './size.js';
import type { CopyReport, PreservationReport, PreservationResult } from './types.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function short(sql: string): string {
  const line = sql.replace(/\s+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

/** The `preserved` output: per copy, where it came from, what it is and where it is. */
export function preservedOutput(result: PreservationResult | undefined): string {
  const copies = result?.kept?.copies ?? [];
  return JSON.stringify(
    copies.map((copy: CopyReport) => ({
      source: copy.source,
      kind: copy.kind,
      rows: copy.rows,
      bytes: copy.bytes,
      copy: copy.copy ? `${result!.kept!.schema}.${copy.copy}` : '',
      estimated: copy.estimated,
      keyColumns: copy.keyColumns,
    })),
  );
}

/** The summary's "Nothing lost" section; empty when preservation had nothing to say. */
/** Rows of a list the summary shows: a rollback may destroy in 50,000 statements, and GitHub drops a summary over 1 MiB. */
const SHOWN = 100;

function more(total: number, what: string, where: string): string[] {
  return total > SHOWN ? ['', `_${total - SHOWN} more ${what} in ${where}._`] : [];
}

export function renderPreservation(result: PreservationResult | undefined, dryRun: boolean): string[] {
  if (!result) return [];
  const parts: string[] = [];
  const { kept, restored, pruned } = result;
  if (kept) {
    const made = kept.copies.some((copy) => !copy.estimated);
    parts.push(
      '### Nothing lost: data kept in the database',
      '',
      made
        ? `Kept under preserve-id \`${kept.id}\` in schema \`${kept.schema}\` (readable by its owner and superusers only). After the fix is deployed, put it back with \`mode: restore-data\` and \`preserve-id: ${kept.id}\`.`
        : `${dryRun || kept.estimatedFor !== undefined ? 'A real run would keep' : 'Would keep'} an estimated ${formatSize(kept.estimatedBytes)}${estimatedWhere(kept)} (preserve-data-max ${formatSize(kept.maxBytes)})${kept.estimatedBytes > kept.maxBytes ? ': **over the limit, a real run would be refused**; raise preserve-data-max or set preserve-data: false' : ''}.`,
      '',
    );
    if (kept.copies.length > 0) {
      parts.push('| Source | Kind | Key | Rows | Size | Copy | Statement |', '|---|---|---|---|---|---|---|');
      for (const copy of kept.copies.slice(0, SHOWN))
        parts.push(
          `| ${cell(copy.source)} | ${copy.kind} | ${keyCell(copy)} | ${copy.estimated ? '~' : ''}${copy.rows} | ${copy.estimated ? '~' : ''}${formatSize(copy.bytes)} | ${copy.copy ? `\`${cell(copy.copy)}\`` : '—'} | \`${cell(short(copy.statement))}\` |`,
        );
      parts.push(...more(kept.copies.length, 'copies', 'the preserved output and the catalog table'), '');
    }
    if (kept.notKept.length > 0)
      parts.push(
        '**Not kept** (the pre-rollback snapshot is the only way back for these):',
        '',
        ...kept.notKept.slice(0, SHOWN).map((line) => `- \`${cell(short(line))}\``),
        ...more(kept.notKept.length, 'statements', 'the record (the sql-file output)'),
        '',
      );
  }
  if (restored) {
    parts.push(
      `### Restored from \`${restored.id}\`${restored.dryRun ? ' (dry run: rolled back)' : ''}`,
      '',
      '| Copy | Into | Kind | Rows back | Skipped | Why skipped |',
      '|---|---|---|---|---|---|',
      ...restored.copies.map(
        (copy) =>
          `| \`${cell(copy.copy)}\` | ${cell(copy.source)} | ${copy.kind} | ${copy.restored} | ${copy.skipped} | ${cell(copy.note ?? '')} |`,
      ),
      '',
    );
    if (restored.sequences.length) parts.push(`Sequences advanced: ${restored.sequences.map(cell).join(', ')}.`, '');
  }
  if (pruned) {
    parts.push(
      `### Pruned: copies older than ${formatDuration(pruned.olderThanMs)}${dryRun ? ' (dry run: nothing dropped)' : ''}`,
      '',
    );
    if (pruned.dropped.length === 0) parts.push('_None._', '');
    else
      parts.push(
        '| preserve-id | Copy | From | Created | Size |',
        '|---|---|---|---|---|',
        ...pruned.dropped.map(
          (copy) =>
            `| ${copy.id} | \`${cell(copy.copy)}\` | ${cell(copy.source)} | ${copy.createdAt} | ${formatSize(copy.bytes)} |`,
        ),
        '',
      );
  }
  return parts;
}

/** mode estimate-data sized another database's dry run here: say so, and that nothing was written. */
function estimatedWhere(kept: PreservationReport): string {
  if (kept.estimatedFor === undefined) return '';
  return ` on this database, for the ${kept.estimatedFor} destroying statement(s) of the dry run (read-only: the catalog, EXPLAIN and pg_table_size)`;
}

/** The key the restore matches by; a table no row was ever written to has nothing to restore. */
function keyCell(copy: CopyReport): string {
  if (copy.keyColumns.length) return cell(copy.keyColumns.join(', '));
  return copy.rows === 0 && !copy.copy ? '— (empty: nothing to keep)' : '**none: restore by hand**';
}
