import fs from 'node:fs';
import path from 'node:path';
import { escapeHtml } from '../common/html.js';
import type { CheckResult, MigrationCheck } from './check-result.js';

// What verify-reversible hands back: the `irreversible` output, the JSON report file,
// and the job summary a reviewer reads without having seen the run.

/** One entry of the `irreversible` output. */
export interface IrreversibleMigration {
  name: string;
  reason: string;
  /** Objects or properties down() left behind. */
  left: string[];
  /** Objects or properties down() lost. */
  lost: string[];
}

export interface ReversibilityReport {
  /** Migrations whose up/down/up was checked. */
  checked: number;
  exact: string[];
  irreversible: IrreversibleMigration[];
  /** Migrations whose down() changes data or leaves a query unrun, in the shape of `irreversible` (left/lost empty). */
  warnings: IrreversibleMigration[];
  appliedUnchecked: string[];
  notReached: string[];
  migrations: MigrationCheck[];
  rebuilds: number;
  durationMs: number;
}

export function irreversibleMigrations(result: CheckResult): IrreversibleMigration[] {
  return result.checks
    .filter((check) => check.outcome !== 'exact')
    .map((check) => ({ name: check.name, reason: check.reason ?? check.outcome, left: check.left, lost: check.lost }));
}

/** One entry of the `warnings` output: the same shape as `irreversible`, the warnings as its reason. */
export function migrationWarnings(result: CheckResult): IrreversibleMigration[] {
  return result.checks
    .filter((check) => check.warnings.length > 0)
    .map((check) => ({ name: check.name, reason: check.warnings.join('; '), left: [], lost: [] }));
}

export function buildReport(result: CheckResult): ReversibilityReport {
  return {
    checked: result.checks.length,
    exact: result.checks.filter((check) => check.outcome === 'exact').map((check) => check.name),
    irreversible: irreversibleMigrations(result),
    warnings: migrationWarnings(result),
    appliedUnchecked: result.appliedUnchecked,
    notReached: result.notReached,
    migrations: result.checks,
    rebuilds: result.rebuilds,
    durationMs: result.durationMs,
  };
}

export function writeReport(file: string, report: ReversibilityReport): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (text: string): string => `\`${text.replace(/`/g, "'")}\``;

/** Markdown for the job summary: an overview table, then one table of differences per migration. */
export function summaryMarkdown(
  report: ReversibilityReport,
  context: { migrationsDir: string; schema: string },
): string {
  const lines: string[] = [];
  const problems = report.irreversible.length;
  const warned = report.warnings.length;
  lines.push('## verify-reversible');
  lines.push('');
  lines.push(
    `Each migration in ${code(context.migrationsDir)} was run up(), down() and up() again on a scratch database, ` +
      `comparing schema ${code(context.schema)} before up() with the schema after down(). ` +
      `${report.checked} checked, ${report.exact.length} exact, **${problems} not reversible**` +
      (warned ? `, ${warned} with warnings about data` : '') +
      (report.appliedUnchecked.length ? `, ${report.appliedUnchecked.length} applied first without a check` : '') +
      (report.notReached.length ? `, ${report.notReached.length} not reached` : '') +
      ` (${(report.durationMs / 1000).toFixed(1)} s).`,
  );
  lines.push('');
  lines.push('| Migration | Result |');
  lines.push('| --- | --- |');
  for (const check of report.migrations) {
    const result =
      check.outcome === 'exact'
        ? 'exact'
        : check.outcome === 'difference'
          ? '❌ schema differs after down()'
          : `❌ ${check.failure?.step ?? 'error'} failed`;
    const warnings = check.warnings.length ? ` · ⚠️ ${check.warnings.length} warning(s)` : '';
    lines.push(`| ${code(check.name)} | ${result}${warnings} |`);
  }
  for (const name of report.appliedUnchecked) lines.push(`| ${code(name)} | applied first, not checked |`);
  for (const name of report.notReached) lines.push(`| ${code(name)} | not reached |`);

  for (const check of report.migrations.filter((each) => each.outcome !== 'exact' || each.warnings.length)) {
    lines.push('');
    lines.push(`### ${code(check.name)}`);
    lines.push('');
    if (check.failure) {
      lines.push(`${check.failure.step} failed:`);
      lines.push('');
      lines.push('```');
      lines.push(check.failure.error);
      lines.push('```');
      lines.push('');
    }
    if (check.left.length || check.lost.length) {
      lines.push('| Object | After down() |');
      lines.push('| --- | --- |');
      for (const entry of check.left) lines.push(`| ${cell(entry)} | left behind |`);
      for (const entry of check.lost) lines.push(`| ${cell(entry)} | lost |`);
      lines.push('');
    }
    for (const warning of check.warnings) lines.push(`- ⚠️ ${escapeHtml(cell(warning))}`);
    if (check.warnings.length) lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
